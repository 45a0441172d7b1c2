// The "Bring your model" panel: files or a URL go to the worker (loadPretrained), which describes the
// model, trains LoRA on it (a loss curve on this panel's own chart) and encodes the adapter as PEFT files.
import type { ByomInfo, ByomSettings, ByomTrainResult, Request } from '../protocol.js';
import { TrainingChart } from './chart.js';
import { $, download, el, pct } from './dom.js';

/** What the panel needs from the page: a request to the worker and the page's log. */
export interface ByomHost {
  call<T>(request: Request): Promise<T>;
  log(message: string): void;
  fail(e: unknown): void;
}

const shape = (s: (number | null)[]): string => `[${s.map((d) => d ?? '?').join(', ')}]`;

/** Wires the panel; returns the handler for the worker's `byomStep` events. */
export function setupByom(host: ByomHost): { step(step: number, loss: number): void; enable(on: boolean): void } {
  const chart = new TrainingChart($<HTMLCanvasElement>('byom-chart'));
  const info = $('byom-info');
  const result = $('byom-result');
  const panel = $('byom');
  let loaded: ByomInfo | null = null;

  const show = (i: ByomInfo): void => {
    loaded = i;
    panel.dataset['format'] = i.format;
    panel.dataset['task'] = i.task ?? 'none';
    info.textContent = [
      `format ${i.format} (${i.kind}), ${i.count} ${i.countLabel}`,
      `inputs:  ${i.inputs.map((t) => `${t.name} ${shape(t.shape)} ${t.dtype}`).join(', ')}`,
      `outputs: ${i.outputs.map((t) => `${t.name} ${shape(t.shape)} ${t.dtype}`).join(', ')}`,
      `LoRA can target ${i.targets.length} modules: ${i.targets.join(', ')}`,
      i.task
        ? `task: ${i.task === 'image' ? 'digits resized to its input' : `two-class token windows${i.tokenizer ? ' (its tokenizer.json)' : ''}`}`
        : 'task: none fits its inputs (images [b, h, w, c] or token ids [b, t])',
    ].join('\n');
    const box = $('byom-targets');
    box.replaceChildren(
      el('legend', {}, 'target modules'),
      ...i.targets.map((t) =>
        el('label', {}, el('input', { type: 'checkbox', name: 'byom-target', value: t, checked: true }), ` ${t}`),
      ),
    );
    $<HTMLButtonElement>('byom-train').disabled = !i.task;
    $<HTMLButtonElement>('byom-download').disabled = true;
    panel.dataset['state'] = 'loaded';
  };

  const load = async (request: Request, what: string): Promise<void> => {
    panel.dataset['state'] = 'loading';
    info.textContent = `loading ${what}…`;
    try {
      show(await host.call<ByomInfo>(request));
      host.log(`bring your model: loaded ${what} (${loaded!.format})`);
    } catch (e) {
      panel.dataset['state'] = 'error';
      info.textContent = `could not load ${what}: ${(e as Error).message}`;
      host.fail(e);
    }
  };

  $<HTMLInputElement>('byom-files').addEventListener('change', (e) => {
    const files = [...((e.target as HTMLInputElement).files ?? [])];
    if (files.length) void load({ type: 'byomLoad', files }, files.map((f) => f.name).join(', '));
  });
  $('byom-load').addEventListener('click', () => {
    const url = $<HTMLInputElement>('byom-url').value.trim();
    if (url) void load({ type: 'byomLoad', url }, url);
  });

  $('byom-train').addEventListener('click', async () => {
    if (!loaded) return;
    const num = (id: string): number => Number($<HTMLInputElement>(id).value);
    const settings: ByomSettings = {
      adapterName: $<HTMLInputElement>('byom-name').value.trim() || 'my-model',
      r: num('byom-rank'),
      loraAlpha: num('byom-alpha'),
      learningRate: num('byom-lr'),
      steps: num('byom-steps'),
      batchSize: num('byom-batch'),
      targets: [...document.querySelectorAll<HTMLInputElement>('input[name=byom-target]:checked')].map((c) => c.value),
    };
    chart.reset();
    delete result.dataset['state'];
    $<HTMLButtonElement>('byom-train').disabled = true;
    result.textContent = 'training…';
    try {
      const r = await host.call<ByomTrainResult>({ type: 'byomTrain', settings });
      Object.assign(result.dataset, {
        state: 'done',
        firstLoss: String(r.firstLoss),
        lastLoss: String(r.lastLoss),
        baseAccuracy: String(r.baseAccuracy),
        accuracy: String(r.accuracy),
        tfBackend: r.tfBackend,
      });
      result.textContent =
        `${r.task}: loss ${r.firstLoss.toFixed(3)} → ${r.lastLoss.toFixed(3)}, test accuracy ${pct(r.baseAccuracy)} → ${pct(r.accuracy)} ` +
        `(${r.classes} classes, ${r.parameters.trainable.toLocaleString('en-US')} trainable of ${r.parameters.total.toLocaleString('en-US')}, ${r.seconds.toFixed(1)} s on ${r.tfBackend})`;
      host.log(`bring your model: ${result.textContent}`);
      $<HTMLButtonElement>('byom-download').disabled = false;
    } catch (e) {
      result.dataset['state'] = 'error';
      result.textContent = `training failed: ${(e as Error).message}`;
      host.fail(e);
    } finally {
      $<HTMLButtonElement>('byom-train').disabled = false;
    }
  });

  $('byom-download').addEventListener('click', async () => {
    const name = $<HTMLInputElement>('byom-name').value.trim() || 'my-model';
    try {
      const files = await host.call<{ config: string; weights: Uint8Array }>({ type: 'byomEncode', name });
      download(`${name}-adapter_config.json`, files.config, 'application/json');
      download(
        `${name}-adapter_model.safetensors`,
        files.weights as Uint8Array<ArrayBuffer>,
        'application/octet-stream',
      );
    } catch (e) {
      host.fail(e);
    }
  });

  return {
    step: (step, loss) => {
      chart.step(step, loss);
      result.textContent = `step ${step}: loss ${loss.toFixed(3)}`;
    },
    enable: (on) => {
      $<HTMLButtonElement>('byom-load').disabled = !on;
      $<HTMLInputElement>('byom-files').disabled = !on;
      if (!on) {
        loaded = null;
        $<HTMLButtonElement>('byom-train').disabled = true;
        $<HTMLButtonElement>('byom-download').disabled = true;
        info.textContent = 'no model loaded';
        delete panel.dataset['state'];
      }
    },
  };
}
