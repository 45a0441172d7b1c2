// The demo's dedicated worker: all of TensorFlow.js runs here, so training never blocks the page
// (WebGPU, wasm and cpu work in Chromium's dedicated workers; WebGL through an OffscreenCanvas).
// One backend per worker: the page starts a new worker to switch backends.
import * as tf from '@tensorflow/tfjs-core';
import { wasmThreadsCount } from '@tfjs-lora/backend-wasm';
import { useBackend } from '@tfjs-lora/core';
import type {
  ByomTrainResult,
  DataManifest,
  InitResult,
  LatencyResult,
  Request,
  Response,
  Task,
  TrainResult,
  WorkerEvent,
} from '../protocol.js';
import type { AdapterSet } from './adapters.js';
import { ByomTask } from './byom-task.js';
import { backendStatuses, registerDemoBackends } from './backends.js';
import { guardSyncReads } from './sync-read-guard.js';
import { TextTask } from './text-task.js';
import { VisionTask } from './vision-task.js';

const scope = self as unknown as {
  postMessage(m: unknown, transfer?: Transferable[]): void;
  onmessage: ((e: MessageEvent) => void) | null;
  location: Location;
  crossOriginIsolated?: boolean;
};
const origin = scope.location.origin;
let manifest: DataManifest | null = null;
let vision: Promise<VisionTask> | null = null;
let text: Promise<TextTask> | null = null;
let stopRequested = false;
let byom: ByomTask | null = null;

const emit = (e: WorkerEvent): void => scope.postMessage(e);

function visionTask(): Promise<VisionTask> {
  return (vision ??= VisionTask.load(origin, manifest!));
}
function textTask(): Promise<TextTask> {
  return (text ??= TextTask.load(origin, manifest!));
}
async function adaptersOf(task: Task): Promise<AdapterSet> {
  return task === 'vision' ? (await visionTask()).adapters : (await textTask()).adapters;
}
function announce(set: AdapterSet): void {
  emit({ event: 'adapters', task: set.task, adapters: set.list(), active: set.active });
}

async function handle(req: Request): Promise<unknown> {
  switch (req.type) {
    case 'init': {
      manifest = (await (await fetch(`${origin}/data/manifest.json`)).json()) as DataManifest;
      // wasm threads: @tfjs-lora/backend-wasm's default (one per core, at most 8, where cross-origin
      // isolated), or `?threads=N` from the page.
      registerDemoBackends(origin, req.wasmThreads);
      const backends = await backendStatuses();
      const chosen = await useBackend(req.backend === 'auto' ? 'auto' : [req.backend]);
      await tf.ready();
      guardSyncReads(); // webgpu/webgl: any synchronous GPU read becomes a console error (see the module)
      const wasmThreads = chosen.name === 'wasm' ? await wasmThreadsCount() : undefined;
      return {
        backend: chosen.name,
        backends,
        manifest,
        crossOriginIsolated: scope.crossOriginIsolated === true,
        wasmThreads,
      } satisfies InitResult;
    }
    case 'params':
      return (await adaptersOf(req.task)).params(req.r, req.targets);
    case 'train': {
      stopRequested = false;
      const s = req.settings;
      const result =
        s.task === 'vision'
          ? await (await visionTask()).train(s, emit, () => stopRequested)
          : await (await textTask()).train(s, emit, () => stopRequested);
      announce(await adaptersOf(s.task));
      return { ...result, tfBackend: tf.getBackend() } satisfies TrainResult;
    }
    case 'stop':
      stopRequested = true;
      return null;
    case 'predict':
      return (await visionTask()).predict(req.pixels);
    case 'testImage': {
      const { test } = await (await visionTask()).data(req.domain);
      const i = req.index % test.count;
      return {
        pixels: Float32Array.from(test.pixels.subarray(i * 784, (i + 1) * 784), (p) => p / 255),
        label: test.labels[i],
      };
    }
    case 'sample':
      return (await textTask()).sample(req.prompt, req.tokens, req.seed);
    case 'setAdapter': {
      const set = await adaptersOf(req.task);
      set.setActive(req.name);
      announce(set);
      return null;
    }
    case 'encode':
      return (await adaptersOf(req.task)).encode(req.name);
    case 'saveIdb':
      return (await adaptersOf(req.task)).saveIdb(req.name);
    case 'listIdb':
      return Object.keys(await tf.io.listModels()).filter((k) => k.startsWith('indexeddb://tfjs-lora-demo/'));
    case 'loadIdb': {
      const task: Task = req.key.includes('/text/') ? 'text' : 'vision';
      const set = await adaptersOf(task);
      const domain = set.infos.get(req.key.split('/').pop()!)?.domain ?? (task === 'text' ? 'sotu' : '');
      const info = await set.load(req.key, req.name, { name: req.name, task, domain, source: 'indexeddb' });
      announce(set);
      return info;
    }
    case 'loadFiles': {
      // A vision or text adapter: try the task whose layer names the config's target_modules mention.
      const config = JSON.parse(new TextDecoder().decode(req.config)) as { target_modules?: unknown };
      const task: Task = /query|value|key|wte|fc_in|fc_out|attn/.test(JSON.stringify(config.target_modules ?? ''))
        ? 'text'
        : 'vision';
      const set = await adaptersOf(task);
      const info = await set.load({ config: req.config, weights: req.weights }, req.name, {
        name: req.name,
        task,
        domain: task === 'text' ? 'sotu' : '',
        source: 'file',
      });
      announce(set);
      return info;
    }
    case 'textModel': {
      const previous = text;
      const source = req.files ?? req.url;
      const next = source ? TextTask.fromPretrained(origin, manifest!, source) : TextTask.load(origin, manifest!);
      const task = await next; // a model that fails to load leaves the current one in place
      text = next;
      if (previous) (await previous.catch(() => null))?.dispose();
      announce(task.adapters);
      return task.info();
    }
    case 'byomLoad':
      byom ??= new ByomTask(origin, manifest!);
      return byom.load(req.files ?? req.url ?? '');
    case 'byomTrain': {
      if (!byom) throw new Error('Bring your model: load a model first.');
      stopRequested = false;
      const result = await byom.train(req.settings, emit, () => stopRequested);
      return { ...result, tfBackend: tf.getBackend() } satisfies ByomTrainResult;
    }
    case 'byomEncode':
      if (!byom) throw new Error('Bring your model: load a model first.');
      return byom.encode();
    case 'latency': {
      const set = await adaptersOf(req.task);
      if (!set.lora) throw new Error('No adapter yet: train or load one first.');
      if (req.merge) set.merge();
      else set.unmerge();
      const v = await visionTask();
      const domain = set.infos.get(set.active!)?.domain || manifest!.domains.find((d) => d.available)!.id;
      const ms = await v.latency(domain);
      return { merged: set.merged, ms, batch: 64, adapter: set.active! } satisfies LatencyResult;
    }
  }
}

/**
 * Requests run one at a time, in arrival order: handlers await GPU reads, and two interleaved handlers
 * would see each other's half-done state (a predict inside `withBase` unmerges and re-merges around its
 * await, so an unmerge arriving meanwhile was undone). `stop` alone bypasses the queue: it must reach a
 * running training.
 */
let queue: Promise<unknown> = Promise.resolve();
function serialized(request: Request): Promise<unknown> {
  if (request.type === 'stop') return handle(request);
  const run = queue.then(() => handle(request));
  queue = run.catch(() => undefined);
  return run;
}

scope.onmessage = (e: MessageEvent) => {
  const { id, request } = e.data as { id: number; request: Request };
  serialized(request).then(
    (result) => {
      const transfer: Transferable[] = [];
      if (
        result &&
        typeof result === 'object' &&
        'weights' in result &&
        (result as { weights: unknown }).weights instanceof Uint8Array
      ) {
        transfer.push((result as { weights: Uint8Array }).weights.buffer as ArrayBuffer);
      }
      scope.postMessage({ id, ok: true, result } satisfies Response, transfer);
    },
    (err: unknown) =>
      scope.postMessage({
        id,
        ok: false,
        error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
      } satisfies Response),
  );
};
