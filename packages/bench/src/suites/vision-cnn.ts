// `pnpm bench vision-cnn`: LoRA against full fine-tuning, step time and peak memory, for
// the experiment's CNN (batch 64, 28×28×1) and MobileNetV2 (224×224×3) on cpu and wasm, side by side in
// one run (and on native TensorFlow, @tfjs-lora/backend-cuda's 'native' backend, when its binding is built:
// `pnpm --filter @tfjs-lora/backend-cuda build:native`); and the CNN workload in PEFT on PyTorch when the offline PEFT is present ($PEFT_PYTHON,
// default /tmp/peftenv/bin/python), printed as ours/PEFT.
//
// MobileNetV2 runs at batch 4 by default (--mobilenet-batch): a training step at batch 4 peaks at 2.8 GB
// of tensors (LoRA) and 2.3 GB (full), so batch 8 does not fit wasm's 4 GB (wasm32) heap; tfjs-layers'
// BatchNormalization in training mode keeps many full-size intermediates.
//
// Steps: wasm CNN --steps N timed (default 10) after 2 warm-up steps; wasm MobileNetV2 ⌈N/3⌉ after 1;
// cpu rows 1 timed step without warm-up (the cpu backend takes ~30 s per CNN step and 1.5–7 min per
// MobileNetV2 step, so cpu MobileNetV2 runs only with --cpu-mobilenet). Also --mobilenet-batch 4, --r 8.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { applyLora, useBackend } from '@tfjs-lora/core';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import '@tfjs-lora/vision';
import { buildMnistCnn } from '@tfjs-lora/vision/experiments';
import { markdownTable } from '../print-table.js';
import { loadMobileNetV2, MOBILENET_HEAD, MOBILENET_POINTWISE } from '@tfjs-lora/test-support/mobilenet-v2';

const { values: a } = parseArgs({
  options: {
    steps: { type: 'string', default: '10' },
    r: { type: 'string', default: '8' },
    'mobilenet-batch': { type: 'string', default: '4' },
    'cpu-mobilenet': { type: 'boolean', default: false },
  },
});
const MOBILENET_BATCH = Number(a['mobilenet-batch']);
const STEPS = Number(a.steps);
const R = Number(a.r);

interface Measured {
  msPerStep: number;
  peakBytes: number;
  trainable: number;
  steps: number;
}

const median = (xs: number[]) => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)];
const trainableOf = (m: tfl.LayersModel) =>
  m.trainableWeights.reduce((n, w) => n + tf.util.sizeFromShape(w.shape as number[]), 0);

/**
 * LoRA and full fine-tuning measured side by side: Adam, cross-entropy, one fixed random batch, their
 * steps interleaved (so load on a shared machine hits both alike); median ms per step; the peak bytes of
 * a step (`tf.profile`). With a single timed step (cpu MobileNetV2) that step is the profiled one; the
 * profiler's overhead is small against a step of a minute.
 */
async function measurePair(
  lora: tfl.LayersModel,
  full: tfl.LayersModel,
  batch: number[],
  steps: number,
  warmup: number,
): Promise<[Measured, Measured]> {
  const classes = full.outputs[0].shape[1] as number;
  const x = tf.randomUniform(batch, 0, 1, 'float32', 1);
  const y = tf.oneHot(
    tf.tensor1d(
      Array.from({ length: batch[0] }, (_, i) => i % classes),
      'int32',
    ),
    classes,
  );
  const models = [lora, full];
  const optimizers = models.map(() => tf.train.adam(1e-3));
  models.forEach((m, k) => m.compile({ optimizer: optimizers[k], loss: 'categoricalCrossentropy' }));
  const times: number[][] = [[], []];
  const peaks = [0, 0];
  const step = (m: tfl.LayersModel) => async () => {
    await m.trainOnBatch(x, y);
    return [];
  };
  for (let i = 0; i < warmup; i++) for (const m of models) await m.trainOnBatch(x, y);
  for (let i = 0; i < steps; i++) {
    for (const [k, m] of models.entries()) {
      const t = performance.now();
      if (steps === 1) peaks[k] = (await tf.profile(step(m))).peakBytes;
      else await step(m)();
      times[k].push(performance.now() - t);
    }
  }
  if (steps > 1) for (const [k, m] of models.entries()) peaks[k] = (await tf.profile(step(m))).peakBytes;
  tf.dispose([x, y]);
  optimizers.forEach((o) => o.dispose());
  return [0, 1].map((k) => ({
    msPerStep: median(times[k]),
    peakBytes: peaks[k],
    trainable: trainableOf(models[k]),
    steps,
  })) as [Measured, Measured];
}

interface Row {
  model: string;
  backend: string;
  batch: number;
  lora: Measured;
  full: Measured;
}
const rows: Row[] = [];

async function cnnRow(backend: string, steps: number, warmup: number): Promise<void> {
  const loraBase = buildMnistCnn(1);
  const lora = applyLora(loraBase, { r: R, loraAlpha: 2 * R, targetModules: 'conv1|conv2|fc1|head' });
  const full = buildMnistCnn(1);
  const [l, f] = await measurePair(lora.model, full, [64, 28, 28, 1], steps, warmup);
  [lora, loraBase, full].forEach((m) => m.dispose());
  rows.push({ model: 'CNN (MNIST)', backend, batch: 64, lora: l, full: f });
}

async function mobilenetRow(backend: string, steps: number, warmup: number): Promise<void> {
  const base = await loadMobileNetV2();
  const lora = applyLora(base, { r: R, loraAlpha: 2 * R, targetModules: `${MOBILENET_POINTWISE}|${MOBILENET_HEAD}` });
  for (const layer of base.layers) layer.trainable = true; // the bundle marks its stem frozen; full FT trains all
  const [l, f] = await measurePair(lora.model, base, [MOBILENET_BATCH, 224, 224, 3], steps, warmup);
  lora.dispose();
  base.dispose();
  rows.push({ model: 'MobileNetV2', backend, batch: MOBILENET_BATCH, lora: l, full: f });
}

const log = (m: string) => process.stderr.write(`${m}\n`);

/** Imports @tfjs-lora/backend-cuda (registering 'native') and asks whether its binding works. Returns null, or why not. */
async function registerNative(): Promise<string | null> {
  try {
    const status = await (await import('@tfjs-lora/backend-cuda')).nativeBindingStatus();
    return status.ok ? null : status.reason;
  } catch (e) {
    return `@tfjs-lora/backend-cuda could not be loaded (${(e as Error).message.split('\n')[0]})`;
  }
}
const started = performance.now();
let wasm = false;
try {
  await import('@tfjs-lora/backend-wasm');
  await useBackend('wasm');
  wasm = true;
} catch (e) {
  log(`wasm skipped: ${(e as Error).message.split('\n')[0]}`);
}
const nativeSkipped = await registerNative();
if (nativeSkipped) {
  log(`native skipped: ${nativeSkipped}`);
} else {
  await useBackend('native');
  log('native: CNN');
  await cnnRow('native', STEPS, 2);
  log('native: MobileNetV2');
  await mobilenetRow('native', Math.max(2, Math.ceil(STEPS / 3)), 1);
}
if (wasm) {
  await useBackend('wasm');
  log('wasm: CNN');
  await cnnRow('wasm', STEPS, 2);
  log('wasm: MobileNetV2');
  await mobilenetRow('wasm', Math.max(2, Math.ceil(STEPS / 3)), 1);
}
await useBackend('cpu');
log('cpu: CNN');
await cnnRow('cpu', 1, 0);
if (a['cpu-mobilenet']) {
  log('cpu: MobileNetV2 (slow: one timed step each, ~8 min)');
  await mobilenetRow('cpu', 1, 0);
}

const mb = (b: number) => (b / 2 ** 20).toFixed(0);
console.log(
  `\nLoRA r=${R} (alpha ${2 * R}) vs full fine-tuning, Adam, steps interleaved in one process, tfjs ${tf.version_core}; median ms per training step\n`,
);
const header = ['model', 'backend', 'batch', 'LoRA ms/step', 'full FT ms/step', 'LoRA / full time', 'LoRA peak MB'];
console.log(
  markdownTable(
    [...header, 'full peak MB', 'LoRA / full memory', 'trainable LoRA / full', 'timed steps each'],
    rows.map((r) => [
      r.model,
      r.backend,
      r.batch,
      r.lora.msPerStep.toFixed(0),
      r.full.msPerStep.toFixed(0),
      (r.lora.msPerStep / r.full.msPerStep).toFixed(2),
      mb(r.lora.peakBytes),
      mb(r.full.peakBytes),
      (r.lora.peakBytes / r.full.peakBytes).toFixed(2),
      `${r.lora.trainable.toLocaleString('en-US')} / ${r.full.trainable.toLocaleString('en-US')}`,
      r.lora.steps,
    ]),
    ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
  ),
);
const byModel = new Map<string, Map<string, Row>>();
for (const r of rows) byModel.set(r.model, (byModel.get(r.model) ?? new Map<string, Row>()).set(r.backend, r));
const versus = (
  [
    ['wasm', 'cpu'],
    ['native', 'cpu'],
    ['native', 'wasm'],
  ] as const
).filter(([p, q]) => [...byModel.values()].some((m) => m.has(p) && m.has(q)));
if (versus.length > 0) {
  const cells = [...byModel].map(([model, m]) => [
    model,
    ...versus.flatMap(([p, q]) => {
      const [x, y] = [m.get(p), m.get(q)];
      return x && y
        ? [(x.lora.msPerStep / y.lora.msPerStep).toFixed(3), (x.full.msPerStep / y.full.msPerStep).toFixed(3)]
        : ['–', '–'];
    }),
  ]);
  const head = versus.flatMap(([p, q]) => [`${p} / ${q} LoRA step`, `${p} / ${q} full FT step`]);
  console.log(`\n${markdownTable(['model', ...head], cells)}`);
}

const python = process.env['PEFT_PYTHON'] ?? '/tmp/peftenv/bin/python';
if (existsSync(python)) {
  log('PEFT on PyTorch: CNN');
  const script = fileURLToPath(new URL('./peft_cnn_bench.py', import.meta.url));
  const out = execFileSync(
    python,
    [script, '--batch', '64', '--steps', String(Math.max(10, STEPS * 2)), '--threads', '2', '--r', String(R)],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
  );
  const peft = JSON.parse(out.trim().split('\n').pop()!) as {
    torch: string;
    peft: string;
    lora_ms: number;
    full_ms: number;
    threads: number;
  };
  console.log(
    `\nThe CNN workload in PEFT ${peft.peft} on PyTorch ${peft.torch} (${peft.threads} threads): LoRA ${peft.lora_ms.toFixed(0)} ms/step, full FT ${peft.full_ms.toFixed(0)} ms/step\n`,
  );
  const cnn = rows.filter((x) => x.model === 'CNN (MNIST)');
  console.log(
    markdownTable(
      ['CNN, batch 64', 'ours LoRA / PEFT LoRA', 'ours full FT / PyTorch full FT'],
      cnn.map((r) => [
        `tfjs ${r.backend}`,
        (r.lora.msPerStep / peft.lora_ms).toFixed(2),
        (r.full.msPerStep / peft.full_ms).toFixed(2),
      ]),
    ),
  );
} else {
  console.log(`\n(PEFT column skipped: no Python with PEFT at ${python}; set PEFT_PYTHON)`);
}
console.log(`\nbench total ${((performance.now() - started) / 1000).toFixed(0)} s`);
