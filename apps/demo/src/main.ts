// The demo page: controls, chart, drawing pad and adapter management. All tfjs work happens in the
// worker (src/worker/worker.ts); this file only sends requests and renders what comes back.
import { drawingToMnist, invert } from './data/drawing.js';
import type {
  AdapterInfo,
  DataManifest,
  InitResult,
  LatencyResult,
  ParamsResult,
  PredictResult,
  Task,
  TrainResult,
  WorkerEvent,
} from './protocol.js';
import { setupByom } from './ui/byom.js';
import { TrainingChart } from './ui/chart.js';
import { WorkerClient, WorkerReplacedError } from './ui/client.js';
import { $, download, el, pct } from './ui/dom.js';
import { num, renderDomains, renderParams, settings, showTaskDefaults, targets } from './ui/controls.js';
import { drawPad, PAD_SIZE, paintImage } from './ui/draw-pad.js';
import { renderAdapterList, renderBars, renderIdbList, renderSamples } from './ui/results.js';
import { setupTextModel } from './ui/text-model.js';
import './style.css';

const chart = new TrainingChart($<HTMLCanvasElement>('chart'));
let client: WorkerClient | null = null;
let manifest: DataManifest | null = null;
let task: Task = 'vision';
let training = false;
let lastInput: Float32Array | null = null;
/** `?threads=N`: ask wasm for N threads (1: tfjs's single-threaded build); default every core, at most 8. */
const wasmThreads = Number(new URLSearchParams(location.search).get('threads')) || undefined;
const adapterLists: Record<Task, { adapters: AdapterInfo[]; active: string | null }> = {
  vision: { adapters: [], active: null },
  text: { adapters: [], active: null },
};

const log = (message: string): void => {
  const pre = $('log');
  pre.textContent += `${new Date().toLocaleTimeString()}  ${message}\n`;
  pre.scrollTop = pre.scrollHeight;
};
// An error is logged on the page and reported on the console too (the e2e test fails on any console error).
const fail = (e: unknown): void => {
  if (e instanceof WorkerReplacedError) return;
  const message = (e as Error).message ?? String(e);
  log(`error: ${message}`);
  console.error(`demo: ${message}`);
};
const call = <T>(...args: Parameters<WorkerClient['call']>): Promise<T> => {
  if (!client) return Promise.reject(new Error('no worker running'));
  return client.call<T>(...args);
};

const byom = setupByom({ call: (request) => call(request), log, fail });
const textModel = setupTextModel({
  call: (request) => call(request),
  log,
  fail,
  changed: () => {
    adapterLists.text = { adapters: [], active: null };
    renderSamples({ off: '', on: '', prompt: '' });
    if (task === 'text') setTask('text');
  },
});

function onEvent(e: WorkerEvent): void {
  if (e.event === 'log') log(e.message);
  else if (e.event === 'byomStep') byom.step(e.step, e.loss);
  else if (e.event === 'step') {
    chart.step(e.step, e.loss, e.accuracy);
    $('result').textContent =
      `step ${e.step} (epoch ${e.epoch}): loss ${e.loss.toFixed(3)}${e.accuracy !== undefined ? `, batch accuracy ${pct(e.accuracy)}` : ''}`;
  } else if (e.event === 'eval') {
    chart.evaluation(e.step, e.accuracy);
    log(`test accuracy (${e.label}): ${pct(e.accuracy)}`);
  } else if (e.event === 'adapters') {
    adapterLists[e.task] = { adapters: e.adapters, active: e.active };
    renderAdapters();
  }
}

// ---- backend -------------------------------------------------------------------------------------
async function startBackend(name: string): Promise<void> {
  client?.terminate();
  document.body.dataset['ready'] = 'false';
  $<HTMLButtonElement>('train').disabled = true;
  byom.enable(false);
  textModel.enable(false);
  textModel.reset();
  if (task === 'text') showTaskDefaults(task);
  adapterLists.vision = { adapters: [], active: null };
  adapterLists.text = { adapters: [], active: null };
  renderAdapters();
  $('backend-status').textContent = `starting ${name}…`;
  client = new WorkerClient(onEvent, (m) => fail(new Error(`worker error: ${m}`)));
  try {
    const init = await call<InitResult>({ type: 'init', backend: name, ...(wasmThreads ? { wasmThreads } : {}) });
    manifest = init.manifest;
    const select = $<HTMLSelectElement>('backend');
    select.replaceChildren(
      el('option', { value: 'auto', selected: name === 'auto' }, name === 'auto' ? `auto (${init.backend})` : 'auto'),
      ...init.backends.map((b) =>
        el(
          'option',
          { value: b.name, disabled: !b.ok, selected: name === b.name, title: b.reason ?? '' },
          b.ok ? b.name : `${b.name}: unavailable (${b.reason})`,
        ),
      ),
    );
    const threads = init.wasmThreads;
    const status = $('backend-status');
    status.textContent = `running on ${init.backend}${threads === undefined ? '' : `, ${threads} thread${threads === 1 ? '' : 's'}`}`;
    status.title = init.crossOriginIsolated
      ? 'cross-origin isolated: wasm may use threads'
      : 'not cross-origin isolated: wasm runs one thread';
    status.dataset['backend'] = init.backend;
    status.dataset['isolated'] = String(init.crossOriginIsolated);
    if (threads === undefined) delete status.dataset['threads'];
    else status.dataset['threads'] = String(threads);
    for (const b of init.backends) if (!b.ok) log(`${b.name} unavailable: ${b.reason}`);
    renderDomains(init.manifest);
    document.body.dataset['ready'] = 'true';
    $<HTMLButtonElement>('train').disabled = false;
    byom.enable(true);
    textModel.enable(true);
    await refreshParams();
    await refreshIdb();
  } catch (e) {
    $('backend-status').textContent = `${name} failed`;
    fail(e);
  }
}

// ---- task and controls ---------------------------------------------------------------------------
function setTask(next: Task): void {
  task = next;
  document.body.dataset['task'] = task;
  showTaskDefaults(task);
  renderAdapters();
  void refreshParams();
}

async function refreshParams(): Promise<void> {
  if (!client || document.body.dataset['ready'] !== 'true') return;
  const p = await call<ParamsResult>({ type: 'params', task, r: num('rank'), targets: targets() });
  renderParams(p, num('rank'));
}

async function train(): Promise<void> {
  const s = settings(task);
  training = true;
  document.body.dataset['training'] = 'true';
  $<HTMLButtonElement>('train').disabled = true;
  $<HTMLButtonElement>('stop').disabled = false;
  const result = $('result');
  delete result.dataset['state'];
  chart.reset();
  log(
    `training '${s.adapterName}' (${s.task}${s.task === 'vision' ? `, ${s.domain}` : ''}): r=${s.r}, alpha=${s.loraAlpha}, targets ${s.targets.join(', ')}, lr ${s.learningRate}`,
  );
  try {
    const r = await call<TrainResult>({ type: 'train', settings: s });
    Object.assign(result.dataset, {
      state: 'done',
      adapter: r.adapter.name,
      firstLoss: String(r.firstLoss),
      lastLoss: String(r.lastLoss),
      seconds: String(r.seconds),
      tfBackend: r.tfBackend ?? '',
      ...(r.perplexity !== undefined
        ? { basePerplexity: String(r.basePerplexity), perplexity: String(r.perplexity) }
        : {}),
      ...(r.baseAccuracy !== undefined
        ? {
            baseAccuracy: String(r.baseAccuracy),
            accuracy: String(r.accuracy),
            baseTestLoss: String(r.baseTestLoss),
            testLoss: String(r.testLoss),
          }
        : {}),
    });
    result.textContent =
      `'${r.adapter.name}' in ${r.seconds.toFixed(1)} s: training loss ${r.firstLoss.toFixed(3)} → ${r.lastLoss.toFixed(3)}` +
      (r.baseAccuracy !== undefined
        ? `; test set: accuracy ${pct(r.baseAccuracy)} → ${pct(r.accuracy!)}, loss ${r.baseTestLoss!.toFixed(3)} → ${r.testLoss!.toFixed(3)} (base → LoRA)`
        : '') +
      (r.perplexity !== undefined
        ? `; held-out perplexity ${r.basePerplexity!.toFixed(2)} → ${r.perplexity.toFixed(2)} (base → LoRA)`
        : '') +
      (r.stopped ? ' (stopped)' : '');
    const p = r.parameters;
    $('params-core').textContent =
      `'${r.adapter.name}' by core's trainableParameters(): ${p.trainable.toLocaleString('en-US')} trainable of ${p.total.toLocaleString('en-US')} (${p.percent.toFixed(2)}%)`;
    log(result.textContent);
    if (r.samples) renderSamples(r.samples);
    if (task === 'vision') await predictCurrent();
  } catch (e) {
    result.dataset['state'] = 'error';
    fail(e);
  } finally {
    training = false;
    document.body.dataset['training'] = 'false';
    $<HTMLButtonElement>('train').disabled = false;
    $<HTMLButtonElement>('stop').disabled = true;
  }
}

// ---- predictions and samples ---------------------------------------------------------------------
function classes(): string[] {
  return manifest?.domains.find((d) => d.id === $<HTMLSelectElement>('domain').value)?.classes ?? [...'0123456789'];
}

async function predict(pixels: Float32Array): Promise<void> {
  lastInput = pixels;
  paintImage($<HTMLCanvasElement>('preview'), pixels);
  const p = await call<PredictResult>({ type: 'predict', pixels });
  renderBars('pred-off', p.off, classes());
  renderBars('pred-on', p.on, classes());
  $('pred-adapter').textContent = p.adapter ? `(${p.adapter})` : '(no adapter yet)';
}

async function predictCurrent(): Promise<void> {
  if (lastInput) await predict(lastInput);
}

// ---- adapters ------------------------------------------------------------------------------------
function renderAdapters(): void {
  renderAdapterList(adapterLists[task].adapters, adapterLists[task].active);
}

async function refreshIdb(): Promise<void> {
  renderIdbList(await call<string[]>({ type: 'listIdb' }));
}

async function latency(merge: boolean): Promise<void> {
  const r = await call<LatencyResult>({ type: 'latency', task, merge });
  const text = `${r.ms.toFixed(1)} ms`;
  $(r.merged ? 'latency-merged' : 'latency-unmerged').textContent = text;
  log(`'${r.adapter}' ${r.merged ? 'merged' : 'unmerged'}: ${text} per predict of ${r.batch} images`);
  await predictCurrent();
}

async function loadFiles(files: FileList): Promise<void> {
  const list = [...files];
  const config = list.find((f) => f.name.endsWith('.json'));
  const weights = list.find((f) => f.name.endsWith('.safetensors'));
  if (!config || !weights)
    throw new Error(
      `Select both adapter_config.json and adapter_model.safetensors (got ${list.map((f) => f.name).join(', ')}).`,
    );
  const name = weights.name.replace(/[-_]?adapter_model\.safetensors$/, '') || 'from-file';
  const c = new Uint8Array(await config.arrayBuffer());
  const w = new Uint8Array(await weights.arrayBuffer());
  const unique =
    adapterLists.vision.adapters.some((a) => a.name === name) || adapterLists.text.adapters.some((a) => a.name === name)
      ? `${name}-loaded`
      : name;
  const info = await call<AdapterInfo>({ type: 'loadFiles', name: unique, config: c, weights: w }, [w.buffer]);
  log(`loaded '${info.name}' from files (${info.task}, r=${info.r}, targets ${info.targets.join(', ')})`);
  if (info.task !== task) document.querySelector<HTMLInputElement>(`input[name=task][value=${info.task}]`)!.click();
}

// ---- wiring --------------------------------------------------------------------------------------
const on = (id: string, event: string, fn: (e: Event) => unknown): void =>
  $(id).addEventListener(event, (e) => {
    Promise.resolve(fn(e)).catch(fail);
  });

on('backend', 'change', (e) => startBackend((e.target as HTMLSelectElement).value));
for (const r of document.querySelectorAll<HTMLInputElement>('input[name=task]'))
  r.addEventListener('change', () => setTask(r.value as Task));
on('targets', 'change', refreshParams);
on('rank', 'change', refreshParams);
on('train', 'click', train);
on('stop', 'click', () => call({ type: 'stop' }));
on('domain', 'change', predictCurrent);
const pad = drawPad($<HTMLCanvasElement>('pad'), (rgba) => {
  const digit = drawingToMnist(rgba, PAD_SIZE);
  // The adapted digit domain is inverted (black ink on white): feed the drawing the way that domain looks.
  const domain = $<HTMLSelectElement>('domain').value;
  $('preview-label').textContent = domain.includes('inverted')
    ? 'model input (inverted, like the domain)'
    : 'model input';
  return predict(domain.includes('inverted') ? invert(digit) : digit).catch(fail);
});
on('pad-clear', 'click', () => pad.clear());
let testIndex = 0;
on('test-image', 'click', async () => {
  const domain = $<HTMLSelectElement>('domain').value;
  const r = await call<{ pixels: Float32Array; label: number }>({
    type: 'testImage',
    domain,
    index: (testIndex = (testIndex * 7 + 13) % 997),
  });
  $('preview-label').textContent = `test image, label: ${classes()[r.label]}`;
  await predict(r.pixels);
});
on('generate', 'click', async () =>
  renderSamples(
    await call({
      type: 'sample',
      prompt: $<HTMLInputElement>('prompt').value,
      tokens: 100,
      seed: 1 + (Date.now() % 1000),
    }),
  ),
);
on('adapters', 'change', async (e) => {
  await call({ type: 'setAdapter', task, name: (e.target as HTMLSelectElement).value });
  log(`active adapter: ${(e.target as HTMLSelectElement).value}`);
  await predictCurrent();
});
on('download', 'click', async () => {
  const name = adapterLists[task].active!;
  const files = await call<{ config: string; weights: Uint8Array }>({ type: 'encode', task, name });
  // PEFT's file names with the adapter name in front (as core's peftDownloads(prefix) names them).
  download(`${name}-adapter_config.json`, files.config, 'application/json');
  download(`${name}-adapter_model.safetensors`, files.weights as Uint8Array<ArrayBuffer>, 'application/octet-stream');
  log(`downloaded '${name}' (${files.weights.byteLength.toLocaleString('en-US')} bytes of weights)`);
});
on('save-idb', 'click', async () => {
  const url = await call<string>({ type: 'saveIdb', task, name: adapterLists[task].active! });
  log(`saved to ${url}`);
  await refreshIdb();
});
on('load-idb', 'click', async () => {
  const key = $<HTMLSelectElement>('idb-list').value;
  if (!key) throw new Error('Nothing saved in IndexedDB yet.');
  const base = key.split('/').pop()!;
  const info = await call<AdapterInfo>({ type: 'loadIdb', key, name: `${base}-idb-${Date.now() % 1000}` });
  log(`loaded '${info.name}' from ${key}`);
});
on('load-file', 'change', async (e) => {
  const input = e.target as HTMLInputElement;
  if (input.files?.length) await loadFiles(input.files);
  input.value = '';
});
on('merge', 'click', () => latency(true));
on('unmerge', 'click', () => latency(false));
window.addEventListener('beforeunload', (e) => {
  if (training) e.preventDefault();
});

setTask('vision');
const initial = new URLSearchParams(location.search).get('backend') ?? 'auto';
void startBackend(initial);
