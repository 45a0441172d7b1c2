// `pnpm bench graph`: LoRA training steps through @tfjs-lora/graph (a tf.GraphModel with its weights fed
// as W + scaling·ΔW) on wasm, with peak tensor memory beside each:
//   1. the GraphModel route against the LayersModel route for one network: the experiment's MNIST CNN
//      (@tfjs-lora/vision's buildMnistCnn) as a LayersModel under core + vision, and the same weights
//      written as a graph-model (_FusedConv2D+Relu, MaxPool, Reshape, _FusedMatMul, Softmax), batch 64,
//      LoRA r on conv1, conv2, fc1, head; the first losses are printed to show it is one network;
//   2. nsfwjs's MobileNetV2 GraphModel (mobilenet_v2_mid: width 1.4, uint8 weights, batch norm folded),
//      LoRA r on the 1×1 convolutions (expand, project, Conv_1) and the head, batch 4, 224×224, against
//      PEFT on the same architecture in PyTorch (suites/peft_mobilenet_bench.py, CPU, 2 threads, batch norm
//      in eval mode as the folded graph computes it) when $PEFT_PYTHON (default /tmp/peftenv/bin/python) exists.
// Adam(1e-3), cross-entropy, core's createTrainStep, one fixed random batch; steps of the routes being
// compared interleaved; median ms per step after warm-up; peak bytes of one step by tf.profile.
//   pnpm bench graph [--steps 10] [--r 8] [--mobilenet-batch 4] [--mobilenet-steps 3] [--no-peft]
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel } from '@tensorflow/tfjs-converter';
import { applyLora, createTrainStep, useBackend, type TrainableTarget } from '@tfjs-lora/core';
import '@tfjs-lora/graph';
import '@tfjs-lora/vision';
import { buildMnistCnn } from '@tfjs-lora/vision/experiments';
import { mobileNetV2GraphArtifacts } from '@tfjs-lora/test-support/mobilenet-v2';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { markdownTable } from '../print-table.js';
import { cnnAsGraph } from './graph-cnn.js';

const { values: a } = parseArgs({
  options: {
    steps: { type: 'string', default: '10' },
    r: { type: 'string', default: '8' },
    'mobilenet-batch': { type: 'string', default: '4' },
    'mobilenet-steps': { type: 'string', default: '3' },
    'no-peft': { type: 'boolean', default: false },
  },
});
const R = Number(a.r);
const log = (m: string) => process.stderr.write(`${m}\n`);
const median = (xs: number[]) => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)]!;
const mb = (b: number) => (b / 2 ** 20).toFixed(0);

interface Measured {
  ms: number;
  peakBytes: number;
  trainable: number;
  firstLoss: number;
}

/** Interleaved steps of each model on one batch: median ms per step, peak bytes of one profiled step. */
async function measure(
  models: TrainableTarget[],
  shape: number[],
  classes: number,
  steps: number,
  warmup: number,
): Promise<Measured[]> {
  const x = tf.randomUniform(shape, 0, 1, 'float32', 1);
  const y = tf.tidy(() =>
    tf.oneHot(
      tf.tensor1d(
        Array.from({ length: shape[0]! }, (_, i) => i % classes),
        'int32',
      ),
      classes,
    ),
  );
  const optimizers = models.map(() => tf.train.adam(1e-3));
  const stepFns = models.map((m, k) =>
    createTrainStep(m, { optimizer: optimizers[k]!, loss: 'categoricalCrossentropy' }),
  );
  const first = await Promise.all(stepFns.map((s) => s(x, y)));
  for (let i = 1; i < warmup; i++) for (const s of stepFns) await s(x, y);
  const times: number[][] = models.map(() => []);
  for (let i = 0; i < steps; i++)
    for (const [k, s] of stepFns.entries()) {
      const t = performance.now();
      await s(x, y);
      times[k]!.push(performance.now() - t);
    }
  const peaks: number[] = [];
  for (const s of stepFns) peaks.push((await tf.profile(async () => void (await s(x, y)))).peakBytes);
  tf.dispose([x, y]);
  optimizers.forEach((o) => o.dispose());
  return models.map((m, k) => ({
    ms: median(times[k]!),
    peakBytes: peaks[k]!,
    trainable: (m as { trainableVariables: tf.Variable[] }).trainableVariables.reduce((n, v) => n + v.size, 0),
    firstLoss: first[k]!,
  }));
}

const started = performance.now();
await import('@tfjs-lora/backend-wasm');
await useBackend('wasm');
const config = { r: R, loraAlpha: 2 * R, initLoraWeights: 'gaussian' as const };

log('wasm: MNIST CNN, LayersModel route vs GraphModel route');
const cnn = buildMnistCnn(1);
const graphCnn = await cnnAsGraph(cnn);
const layersLora = applyLora(cnn, { ...config, targetModules: ['conv1', 'conv2', 'fc1', 'head'] }, { seed: 1 });
const graphLora = applyLora(graphCnn, { ...config, targetModules: ['conv1', 'conv2', 'fc1', 'head'] }, { seed: 1 });
const [lr, gr] = await measure([layersLora, graphLora], [64, 28, 28, 1], 10, Number(a.steps), 2);
[layersLora, graphLora].forEach((m) => m.dispose());
cnn.dispose();
graphCnn.dispose();

const mbatch = Number(a['mobilenet-batch']);
log(`wasm: MobileNetV2 GraphModel, batch ${mbatch}`);
const mobilenet = await loadGraphModel(tf.io.fromMemory(mobileNetV2GraphArtifacts()));
const mLora = applyLora(
  mobilenet,
  { ...config, targetModules: '.*/(expand|project|Conv_1)/.*|.*/dense/.*' },
  { seed: 1 },
);
const modules = mLora.adaptedModules().length;
const [mr] = await measure([mLora], [mbatch, 224, 224, 3], 5, Number(a['mobilenet-steps']), 1);
mLora.dispose();
mobilenet.dispose();

console.log(
  `\nLoRA r=${R} (alpha ${2 * R}), Adam, tfjs ${tf.version_core} wasm (@tfjs-lora/backend-wasm), median ms per training step\n`,
);
console.log(
  markdownTable(
    [
      'network',
      'route',
      'batch',
      'ms/step',
      'peak MB',
      'trainable',
      'first loss',
      'graph / layers time',
      'graph / layers memory',
    ],
    [
      [
        'MNIST CNN',
        'LayersModel (core + vision)',
        64,
        lr.ms.toFixed(1),
        mb(lr.peakBytes),
        lr.trainable,
        lr.firstLoss.toFixed(5),
        '',
        '',
      ],
      [
        'MNIST CNN',
        'GraphModel (@tfjs-lora/graph)',
        64,
        gr.ms.toFixed(1),
        mb(gr.peakBytes),
        gr.trainable,
        gr.firstLoss.toFixed(5),
        (gr.ms / lr.ms).toFixed(2),
        (gr.peakBytes / lr.peakBytes).toFixed(2),
      ],
      [
        `MobileNetV2 1.4 (nsfwjs, ${modules} modules)`,
        'GraphModel (@tfjs-lora/graph)',
        mbatch,
        mr.ms.toFixed(0),
        mb(mr.peakBytes),
        mr.trainable,
        mr.firstLoss.toFixed(4),
        '',
        '',
      ],
    ],
    ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
  ),
);

const python = process.env['PEFT_PYTHON'] ?? '/tmp/peftenv/bin/python';
if (!a['no-peft'] && existsSync(python)) {
  log('PEFT on PyTorch: MobileNetV2 1.4');
  const script = fileURLToPath(new URL('./peft_mobilenet_bench.py', import.meta.url));
  const out = execFileSync(
    python,
    [script, '--batch', String(mbatch), '--steps', a['mobilenet-steps']!, '--threads', '2', '--r', String(R)],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  );
  const p = JSON.parse(out.trim().split('\n').pop()!) as Record<string, number | string | null>;
  console.log(
    `\nMobileNetV2 1.4 in PEFT ${p['peft']} on PyTorch ${p['torch']} (${p['torchvision'] ? `torchvision ${p['torchvision']}` : "local definition of torchvision's architecture"}; CPU, ${p['threads']} threads, batch ${p['batch']}, ${p['targets']} modules, ${p['trainable']} trainable):`,
  );
  console.log(
    markdownTable(
      ['MobileNetV2 LoRA step', 'ms/step', 'peak memory', 'ours / PEFT time'],
      [
        [
          'tfjs wasm, GraphModel route',
          mr.ms.toFixed(0),
          `${mb(mr.peakBytes)} MB of tensors (tf.profile)`,
          (mr.ms / Number(p['lora_ms'])).toFixed(2),
        ],
        [
          'PEFT, PyTorch CPU',
          Number(p['lora_ms']).toFixed(0),
          `${Number(p['peak_rss_mb']).toFixed(0)} MB process RSS (${Number(p['rss_before_mb']).toFixed(0)} before training)`,
          '',
        ],
      ],
      ['l', 'r', 'r', 'r'],
    ),
  );
} else console.log(`\n(PEFT row skipped: ${a['no-peft'] ? '--no-peft' : `no Python at ${python}; set PEFT_PYTHON`})`);
console.log(`\nbench total ${((performance.now() - started) / 1000).toFixed(0)} s`);
