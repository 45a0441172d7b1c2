// Adapting a GraphModel that ships in an npm package to a new image task: nsfwjs's quantised MobileNetV2
// GraphModel (mobilenet_v2_mid, 5-way head) to MNIST digits 0–4 (28×28 grey, resized to 224×224×3), with
//   - head only: the graph's dense head (1792 → 5, initialised from the graph's own weights) trained on the
//     frozen backbone's features, as a plain tf.Variable pair;
//   - LoRA: r on every 1×1 convolution (expand, project, Conv_1) and the head, through @tfjs-lora/graph and
//     core's createTrainStep.
// Same data, epochs, batch, Adam; accuracy on held-out MNIST test digits, trainable parameters, wall time.
//   pnpm --filter @tfjs-lora/graph experiment [--train 120] [--test 200] [--epochs 3] [--batch 8] [--r 4] [--backend wasm|cpu]
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter';
import { applyLora, createTrainStep, useBackend } from '@tfjs-lora/core';
import { loadMnist } from '@tfjs-lora/core/data';
import { mobileNetV2GraphArtifacts } from '@tfjs-lora/test-support/mobilenet-v2';
import { parseArgs } from 'node:util';
import '../src/index.js';

const { values: a } = parseArgs({
  options: {
    train: { type: 'string', default: '120' },
    test: { type: 'string', default: '200' },
    epochs: { type: 'string', default: '3' },
    batch: { type: 'string', default: '8' },
    r: { type: 'string', default: '4' },
    lr: { type: 'string', default: '0.001' },
    backend: { type: 'string', default: 'wasm' },
  },
});
const [TRAIN, TEST, EPOCHS, BATCH, R, LR] = ['train', 'test', 'epochs', 'batch', 'r', 'lr'].map((k) =>
  Number(a[k as keyof typeof a]),
) as [number, number, number, number, number, number];
const CLASSES = 5;
const HEAD = 'StatefulPartitionedCall/sequential/dense/BiasAdd';
const TARGETS = '.*/(expand|project|Conv_1)/.*|.*/dense/.*';

/** The first `n` digits 0–4 of a split as 224×224×3 images in [0, 1] and one-hot labels. */
function digits(split: 'train' | 'test', n: number): { x: tf.Tensor4D; y: tf.Tensor2D; labels: number[] } {
  const data = loadMnist({ split, limit: n * 3 });
  const picked: number[] = [];
  for (let i = 0; i < data.count && picked.length < n; i++) if (data.labels[i]! < CLASSES) picked.push(i);
  const labels = picked.map((i) => data.labels[i]!);
  return tf.tidy(() => {
    const pixels = tf.tensor4d(
      Float32Array.from(picked.flatMap((i) => Array.from(data.images.subarray(i * 784, (i + 1) * 784)))),
      [picked.length, 28, 28, 1],
    );
    const x = tf.tile(tf.image.resizeBilinear(pixels, [224, 224]), [1, 1, 1, 3]) as tf.Tensor4D;
    return { x, y: tf.oneHot(tf.tensor1d(labels, 'int32'), CLASSES) as tf.Tensor2D, labels };
  });
}

function bar(label: string, done: number, total: number, extra: string): void {
  const width = 24;
  const full = Math.round((width * done) / total);
  process.stderr.write(
    `\r${label.padEnd(10)} [${'#'.repeat(full)}${'.'.repeat(width - full)}] ${done}/${total} ${extra}   `,
  );
  if (done === total) process.stderr.write('\n');
}

/** Runs `f` over `x` in batches, concatenating the outputs. */
function batched(x: tf.Tensor, f: (b: tf.Tensor) => tf.Tensor, label: string): tf.Tensor {
  const parts: tf.Tensor[] = [];
  for (let i = 0; i < x.shape[0]!; i += BATCH) {
    parts.push(tf.tidy(() => f(tf.slice(x, i, Math.min(BATCH, x.shape[0]! - i)))));
    bar(label, Math.min(i + BATCH, x.shape[0]!), x.shape[0]!, '');
  }
  const out = tf.concat(parts);
  tf.dispose(parts);
  return out;
}

async function accuracy(scores: tf.Tensor, labels: number[]): Promise<number> {
  const pred = tf.argMax(scores, 1);
  const p = await pred.data();
  pred.dispose();
  return labels.filter((l, i) => p[i] === l).length / labels.length;
}

interface Row {
  method: string;
  accuracy: number;
  trainable: number;
  seconds: number;
}

async function trainLoop(
  label: string,
  step: (x: tf.Tensor, y: tf.Tensor) => Promise<number>,
  x: tf.Tensor,
  y: tf.Tensor,
): Promise<void> {
  const n = x.shape[0]!;
  const steps = Math.ceil(n / BATCH);
  for (let e = 0; e < EPOCHS; e++) {
    for (let s = 0; s < steps; s++) {
      const [xb, yb] = [
        tf.slice(x, s * BATCH, Math.min(BATCH, n - s * BATCH)),
        tf.slice(y, s * BATCH, Math.min(BATCH, n - s * BATCH)),
      ];
      const loss = await step(xb, yb);
      tf.dispose([xb, yb]);
      bar(label, e * steps + s + 1, EPOCHS * steps, `epoch ${e + 1}/${EPOCHS} loss ${loss.toFixed(3)}`);
    }
  }
}

async function headOnly(
  graph: GraphModel,
  train: ReturnType<typeof digits>,
  test: ReturnType<typeof digits>,
): Promise<Row> {
  const t0 = performance.now();
  const featureNode =
    'StatefulPartitionedCall/sequential/keras_layer/StatefulPartitionedCall/StatefulPartitionedCall/StatefulPartitionedCall/predict/feature_vector/SpatialSqueeze';
  const feats = batched(train.x, (b) => graph.execute(b, featureNode) as tf.Tensor, 'features');
  const testFeats = batched(test.x, (b) => graph.execute(b, featureNode) as tf.Tensor, 'features');
  // The graph's own head as the starting point: its MatMul weight and bias constants.
  const head = graph.weights;
  const lora = applyLora(graph, { r: 1, targetModules: ['dense/BiasAdd'] }); // only to read the head's input names
  const target = lora.targetableModules.find((t) => t.node === HEAD)!;
  lora.dispose();
  const w = tf.variable(head[target.weight]![0]!.clone());
  const b = tf.variable(head[target.extraInputs[0]!]![0]!.clone());
  const model = {
    trainableVariables: [w, b],
    apply: (x: tf.Tensor | tf.Tensor[]) => tf.softmax(tf.add(tf.matMul(x as tf.Tensor2D, w), b)),
  };
  const opt = tf.train.adam(LR);
  await trainLoop(
    'head only',
    createTrainStep(model, { optimizer: opt, loss: 'categoricalCrossentropy' }),
    feats,
    train.y,
  );
  const scores = model.apply(testFeats);
  const acc = await accuracy(scores, test.labels);
  tf.dispose([feats, testFeats, scores, w, b]);
  opt.dispose();
  return {
    method: 'head only (dense 1792→5)',
    accuracy: acc,
    trainable: w.size + b.size,
    seconds: (performance.now() - t0) / 1000,
  };
}

async function loraRun(
  graph: GraphModel,
  train: ReturnType<typeof digits>,
  test: ReturnType<typeof digits>,
): Promise<Row> {
  const t0 = performance.now();
  const lora = applyLora(graph, { r: R, loraAlpha: 2 * R, targetModules: TARGETS }, { seed: 1 });
  const opt = tf.train.adam(LR);
  await trainLoop('LoRA', createTrainStep(lora, { optimizer: opt, loss: 'categoricalCrossentropy' }), train.x, train.y);
  const scores = batched(test.x, (b) => lora.predict(b) as tf.Tensor, 'evaluate');
  const acc = await accuracy(scores, test.labels);
  const trainable = lora.trainableParameters().trainable;
  const modules = lora.adaptedModules().length;
  scores.dispose();
  opt.dispose();
  lora.dispose();
  return {
    method: `LoRA r=${R} (${modules} modules)`,
    accuracy: acc,
    trainable,
    seconds: (performance.now() - t0) / 1000,
  };
}

if (a.backend === 'wasm') await import('@tfjs-lora/backend-wasm');
await useBackend(a.backend as 'wasm' | 'cpu');
const graph = await loadGraphModel(tf.io.fromMemory(mobileNetV2GraphArtifacts()));
const train = digits('train', TRAIN);
const test = digits('test', TEST);
const zero = batched(test.x, (b) => graph.predict(b) as tf.Tensor, 'zero-shot');
const rows: Row[] = [
  { method: 'no training (nsfwjs head as is)', accuracy: await accuracy(zero, test.labels), trainable: 0, seconds: 0 },
];
zero.dispose();
rows.push(await headOnly(graph, train, test));
rows.push(await loraRun(graph, train, test));
console.log(
  `\nnsfwjs MobileNetV2 GraphModel → MNIST digits 0–4: ${train.labels.length} training / ${test.labels.length} test images, ${EPOCHS} epochs, batch ${BATCH}, Adam ${LR}, ${tf.getBackend()}\n`,
);
console.log('| method | test accuracy | trainable parameters | time (s) |\n| --- | ---: | ---: | ---: |');
for (const r of rows)
  console.log(
    `| ${r.method} | ${(100 * r.accuracy).toFixed(1)}% | ${r.trainable.toLocaleString('en-US')} | ${r.seconds.toFixed(0)} |`,
  );
tf.dispose([train.x, train.y, test.x, test.y]);
graph.dispose();
