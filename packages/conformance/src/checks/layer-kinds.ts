// Conv2D and Embedding LoRA trained through core's `train` on the active backend, and mixed-adapter
// batches (one adapter per row, `predictWithAdapters`), each against tfjs's cpu backend: the same
// training from identical seeded weights and data, and PEFT's loop over adapters (`predictLoopingAdapters`)
// on cpu. Conv2D comes from @tfjs-lora/vision and Embedding from @tfjs-lora/nlp (imported by the runner
// when installed; a missing one makes its checks a known gap that names it). No synchronous read anywhere.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { applyLora, predictLoopingAdapters, predictWithAdapters, train, type LoraModel } from '@tfjs-lora/core';
import { expectClose, expectNoLeak, expectTrue, recordComparison, seededValues } from '../assert.js';
import type { ConformanceTolerances } from '../tolerances.js';
import type { ConformanceCheck, KnownGap } from '../types.js';
import { fill, fixedBase, fixedData } from './fixed-model.js';

/** A model kind the checks build: the same seeded weights on every backend, and its data. */
interface Subject {
  label: string;
  /** The layer-kind package it needs (null: core's Dense only). */
  needs: string | null;
  build(): { base: tfl.LayersModel; lm: LoraModel };
  data(): { x: tf.Tensor; y: tf.Tensor };
}

const N = 16;
const CLASSES = 3;

function labels(n: number, classes: number): tf.Tensor2D {
  return tf.tidy(() => {
    const idx = tf.tensor1d(
      Int32Array.from({ length: n }, (_, i) => (i * 7) % classes),
      'int32',
    );
    return tf.cast(tf.oneHot(idx, classes), 'float32') as tf.Tensor2D;
  });
}

/** Seeds every base weight and every adapter's A and B (B non-zero, so the adapters matter). */
function seeded(base: tfl.LayersModel, lm: LoraModel): { base: tfl.LayersModel; lm: LoraModel } {
  lm.loraLayers().forEach(({ layer }, i) => {
    layer.adapterNames.forEach((name, j) => {
      const w = layer.weightsOf(name);
      fill(w.loraA, 500 + 10 * i + j, 0.3);
      fill(w.loraB, 600 + 10 * i + j, 0.2);
    });
  });
  return { base, lm };
}

const conv: Subject = {
  label: 'Conv2D (@tfjs-lora/vision)',
  needs: '@tfjs-lora/vision',
  build() {
    const base = tfl.sequential({
      layers: [
        tfl.layers.conv2d({
          name: 'conv',
          filters: 4,
          kernelSize: 3,
          padding: 'same',
          activation: 'relu',
          inputShape: [6, 6, 2],
        }),
        tfl.layers.flatten(),
        tfl.layers.dense({ name: 'head', units: CLASSES, activation: 'softmax' }),
      ],
    });
    base.layers.forEach((layer, i) => layer.weights.forEach((w, j) => fill(w, 700 + 10 * i + j, 0.3)));
    const lm = applyLora(base, { r: 2, loraAlpha: 4, targetModules: ['conv', 'head'] }, { seed: 2 });
    return seeded(base, lm);
  },
  data() {
    return { x: tf.tensor4d(seededValues(N * 6 * 6 * 2, 17), [N, 6, 6, 2]), y: labels(N, CLASSES) };
  },
};

const VOCAB = 11;
const embedding: Subject = {
  label: 'Embedding (@tfjs-lora/nlp)',
  needs: '@tfjs-lora/nlp',
  build() {
    const base = tfl.sequential({
      layers: [
        tfl.layers.embedding({ name: 'emb', inputDim: VOCAB, outputDim: 6, inputLength: 5 }),
        tfl.layers.flatten(),
        tfl.layers.dense({ name: 'head', units: CLASSES, activation: 'softmax' }),
      ],
    });
    base.layers.forEach((layer, i) => layer.weights.forEach((w, j) => fill(w, 800 + 10 * i + j, 0.5)));
    const lm = applyLora(base, { r: 3, loraAlpha: 6, targetModules: ['emb', 'head'] }, { seed: 3 });
    return seeded(base, lm);
  },
  data() {
    const ids = Int32Array.from({ length: N * 5 }, (_, i) => (i * 5 + Math.floor(i / 7)) % VOCAB);
    return { x: tf.tensor2d(ids, [N, 5], 'int32'), y: labels(N, CLASSES) };
  },
};

const dense: Subject = {
  label: 'Dense',
  needs: null,
  build() {
    const base = fixedBase();
    const lm = applyLora(base, { r: 4, loraAlpha: 8, targetModules: ['hidden', 'head'] }, { seed: 1 });
    return seeded(base, lm);
  },
  data: fixedData,
};

/** Steps of the layer-kind training: 2 epochs of 4 batches, losses read every 3 steps. */
const EPOCHS = 2;
const BATCH = 4;

interface TrainRun {
  losses: number[];
  weights: Float32Array[];
}

async function trainRun(subject: Subject): Promise<TrainRun> {
  const before = tf.memory().numTensors;
  const { base, lm } = subject.build();
  const { x, y } = subject.data();
  const optimizer = tf.train.adam(0.02);
  const losses: number[] = [];
  try {
    await train(
      lm.model,
      { x, y },
      {
        optimizer,
        loss: 'categoricalCrossentropy',
        epochs: EPOCHS,
        batchSize: BATCH,
        lossReadInterval: 3,
        onBatchEnd: ({ loss }) => void losses.push(loss),
      },
    );
    const weights: Float32Array[] = [];
    for (const { layer } of lm.loraLayers()) {
      const w = layer.weightsOf('default');
      weights.push((await w.loraA.read().data()) as Float32Array, (await w.loraB.read().data()) as Float32Array);
    }
    return { losses, weights };
  } finally {
    optimizer.dispose();
    lm.dispose();
    base.dispose();
    tf.dispose([x, y]);
    expectNoLeak(before, `${subject.label} training`);
  }
}

/** Runs `fn` on tfjs's cpu backend and switches back to `backend` (also when it throws). */
async function onCpu<T>(backend: string, fn: () => Promise<T>): Promise<T> {
  await tf.setBackend('cpu');
  try {
    return await fn();
  } finally {
    await tf.setBackend(backend);
  }
}

function trainingCheck(subject: Subject, backend: string, tol: ConformanceTolerances): ConformanceCheck {
  const steps = EPOCHS * Math.ceil(N / BATCH);
  return {
    name: `layer kinds: ${subject.label} LoRA trained with core's train (${steps} Adam steps) matches the cpu backend`,
    async run() {
      const ours = await trainRun(subject);
      const reference = await onCpu(backend, () => trainRun(subject));
      expectTrue(ours.losses.length === steps, `expected ${steps} losses, found ${ours.losses.length}`);
      expectTrue(
        reference.losses[steps - 1]! < reference.losses[0]!,
        `cpu reference did not learn: loss ${reference.losses[0]} → ${reference.losses[steps - 1]}`,
      );
      ours.losses.forEach((l, i) => {
        const rel = Math.abs(l - reference.losses[i]!) / Math.abs(reference.losses[i]!);
        recordComparison(`step ${i + 1} loss (relative)`, rel, tol.trainingLoss);
        expectTrue(
          rel <= tol.trainingLoss,
          `step ${i + 1}: loss ${l} vs cpu ${reference.losses[i]} (relative ${rel.toExponential(3)} > ${tol.trainingLoss})`,
        );
      });
      ours.weights.forEach((w, i) => {
        const ref = reference.weights[i]!;
        let diff = 0;
        let scale = 1e-12;
        for (let k = 0; k < w.length; k++) {
          diff = Math.max(diff, Math.abs(w[k]! - ref[k]!));
          scale = Math.max(scale, Math.abs(ref[k]!));
        }
        recordComparison(`LoRA variable ${i} (relative)`, diff / scale, tol.trainingWeights);
        expectTrue(
          diff / scale <= tol.trainingWeights,
          `LoRA variable ${i} after ${steps} steps: max |Δ| / max |w| = ${(diff / scale).toExponential(3)} > ${tol.trainingWeights}`,
        );
      });
    },
  };
}

/** Rows' adapters: every adapter, the base and repeats, interleaved. */
function rowsFor(n: number): string[] {
  const cycle = ['default', 'b', '__base__', 'c', 'b'];
  return Array.from({ length: n }, (_, i) => cycle[i % cycle.length]!);
}

function withThreeAdapters(subject: Subject): { base: tfl.LayersModel; lm: LoraModel } {
  const { base, lm } = subject.build();
  const targets = lm.loraLayers().map((l) => l.path);
  lm.addAdapter('b', { ...lm.peftConfig('default'), targetModules: targets, initLoraWeights: false });
  lm.addAdapter('c', { ...lm.peftConfig('default'), r: 1, targetModules: [targets[0]!], initLoraWeights: false });
  return seeded(base, lm);
}

function mixedCheck(subject: Subject, backend: string, tol: ConformanceTolerances): ConformanceCheck {
  return {
    name: `mixed-adapter batches: ${subject.label}, predictWithAdapters (auto and gather) matches looping adapters on cpu`,
    async run() {
      const before = tf.memory().numTensors;
      const { x, y } = subject.data();
      y.dispose();
      const rows = rowsFor(x.shape[0]);
      const reference = await onCpu(backend, async () => {
        const { base, lm } = withThreeAdapters(subject);
        const xc = tf.tensor(await x.data(), x.shape, x.dtype);
        const out = predictLoopingAdapters(lm, xc, rows);
        const values = { data: await out.data(), shape: out.shape };
        tf.dispose([out, xc]);
        lm.dispose();
        base.dispose();
        return values;
      });
      const expected = tf.tensor(reference.data, reference.shape);
      const { base, lm } = withThreeAdapters(subject);
      try {
        for (const strategy of ['auto', 'gather'] as const) {
          const out = predictWithAdapters(lm, x, rows, { strategy }) as tf.Tensor;
          try {
            await expectClose(out, expected, tol.peftOutput, `${subject.label} mixed batch (${strategy})`);
          } finally {
            out.dispose();
          }
        }
      } finally {
        lm.dispose();
        base.dispose();
        tf.dispose([x, expected]);
      }
      expectNoLeak(before, `${subject.label} mixed batch`);
    },
  };
}

/** The layer-kind training and mixed-batch checks, and a gap per missing layer-kind package. */
export function layerKindChecks(
  backend: string,
  tol: ConformanceTolerances,
  missingPackages: Readonly<Record<string, string>> = {},
): { checks: ConformanceCheck[]; gaps: KnownGap[] } {
  const checks: ConformanceCheck[] = [];
  const gaps: KnownGap[] = [];
  for (const subject of [conv, embedding, dense]) {
    const missing = subject.needs ? missingPackages[subject.needs] : undefined;
    if (missing) {
      gaps.push({ name: `layer kinds: ${subject.label}`, reason: missing });
      continue;
    }
    if (subject !== dense) checks.push(trainingCheck(subject, backend, tol));
    checks.push(mixedCheck(subject, backend, tol));
  }
  return { checks, gaps };
}
