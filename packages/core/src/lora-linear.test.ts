// The hand-written LoRA gradient against an independent reference: tfjs autodiff of the composed
// product x·W + b + s·(xLora·A)·B, on the cpu backend, for random shapes, ranks 1/4/8, with and without
// bias, rank-2 and rank-3 inputs, a separate LoRA input (dropout), and rsLoRA scaling. Then the same
// through a LoRA Dense layer (frozen and trainable bias, trainable kernel fallback, dropout), leaks.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { maxAbsDiff } from '@tfjs-lora/test-support';
import { registerLoraBackend, unregisterLoraBackend, useBackend } from './backend.js';
import { scalingFor } from './config.js';
import { composedLoraMatMul } from './kernels.js';
import { requireWeight, weightByName } from './layer-weights.js';
import { loraLinear } from './lora-linear.js';
import { applyLora } from './apply-lora.js';
import { seededRandom, seededValues } from './random.js';

const TOL = 2e-5;
let seed = 100;
const rand = (shape: number[], scale = 1) =>
  tf.tensor(
    seededValues(
      shape.reduce((a, b) => a * b, 1),
      seed++,
      scale,
    ),
    shape,
  );

/** Relative max difference, so that the tolerance does not depend on the magnitude of a gradient. */
function relDiff(a: tf.Tensor, b: tf.Tensor): number {
  const scale = tf.tidy(() => tf.max(tf.abs(b)).dataSync()[0]);
  return maxAbsDiff(a, b) / Math.max(1, scale);
}

interface Case {
  lead: number[];
  inF: number;
  outF: number;
  r: number;
  bias: boolean;
  split: boolean;
  rslora: boolean;
}

function cases(): Case[] {
  const next = seededRandom(7);
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  const out: Case[] = [];
  for (const r of [1, 4, 8]) {
    for (const lead of [[int(1, 9)], [int(1, 4), int(2, 5)]]) {
      for (const [bias, split, rslora] of [
        [false, false, false],
        [true, false, true],
        [true, true, false],
        [false, true, true],
      ] as const) {
        out.push({ lead, inF: int(3, 17), outF: int(2, 13), r, bias, split, rslora });
      }
    }
  }
  return out;
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('loraLinear: hand-written gradient vs autodiff (cpu)', () => {
  it.each(cases().map((c) => [JSON.stringify(c), c] as const))('%s', (_name, c) => {
    const before = tf.memory().numTensors;
    const x = rand([...c.lead, c.inF]);
    const xl = c.split ? tf.tidy(() => tf.mul(x, tf.cast(tf.greater(rand(x.shape), 0), 'float32'))) : x; // a fixed dropout mask
    const w = rand([c.inF, c.outF]) as tf.Tensor2D;
    const a = rand([c.inF, c.r]) as tf.Tensor2D;
    const b = rand([c.r, c.outF]) as tf.Tensor2D;
    const bias = c.bias ? (rand([c.outF]) as tf.Tensor1D) : undefined;
    const dy = rand([...c.lead, c.outF]);
    const s = scalingFor(c.r, 2 * c.r + 1, c.rslora);
    const args = (xi: tf.Tensor, xli: tf.Tensor, ai: tf.Tensor, bi: tf.Tensor, biasi?: tf.Tensor) => ({
      x: xi,
      kernel: w,
      loraA: ai as tf.Tensor2D,
      loraB: bi as tf.Tensor2D,
      scaling: s,
      ...(biasi ? { bias: biasi as tf.Tensor1D } : {}),
      ...(c.split ? { loraInput: xli } : {}),
    });
    const reference = (xi: tf.Tensor, xli: tf.Tensor, ai: tf.Tensor, bi: tf.Tensor, biasi?: tf.Tensor) => {
      const flatX = tf.reshape(xi, [-1, c.inF]) as tf.Tensor2D;
      const flatXl = tf.reshape(xli, [-1, c.inF]) as tf.Tensor2D;
      let y = tf.add(
        tf.matMul(flatX, w),
        tf.mul(tf.matMul(tf.matMul(flatXl, ai as tf.Tensor2D), bi as tf.Tensor2D), s),
      );
      if (biasi) y = tf.add(y, biasi);
      return tf.reshape(y, [...c.lead, c.outF]);
    };
    // Gradients with respect to x, the LoRA input, A, B and the bias (when there is one).
    const grads = (f: typeof reference) =>
      tf.grads((xi: tf.Tensor, xli: tf.Tensor, ai: tf.Tensor, bi: tf.Tensor, biasi?: tf.Tensor) =>
        tf.sum(tf.mul(f(xi, c.split ? xli : xi, ai, bi, biasi), dy)),
      )(bias ? [x, xl, a, b, bias] : [x, xl, a, b]);
    const ours = grads((...t) => loraLinear(args(...t)));
    const want = grads(reference);
    const yOurs = loraLinear(args(x, xl, a, b, bias));
    const yWant = tf.tidy(() => reference(x, xl, a, b, bias));
    expect(yOurs.shape).toEqual(yWant.shape);
    expect(relDiff(yOurs, yWant)).toBeLessThan(TOL);
    ['x', 'loraInput', 'A', 'B', 'bias'].slice(0, want.length).forEach((name, i) => {
      if (!c.split && name === 'loraInput') return; // x is passed for both; its gradient is checked as x
      expect(relDiff(ours[i], want[i]), name).toBeLessThan(TOL);
    });
    tf.dispose([yOurs, yWant, ...ours, ...want, x, w, a, b, dy, ...(bias ? [bias] : []), ...(c.split ? [xl] : [])]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

/** A Dense model with LoRA on `fc`; A and B set to random values so every gradient is non-trivial. */
function loraDense(opts: { useBias?: boolean; dropout?: number; trainBias?: boolean; rank3?: boolean }) {
  const inputShape = opts.rank3 ? [3, 6] : [6];
  const base = tfl.sequential({
    layers: [
      tfl.layers.dense({
        name: 'fc',
        units: 5,
        inputShape,
        useBias: opts.useBias ?? true,
        activation: 'tanh',
        biasInitializer: 'glorotUniform',
      }),
    ],
  });
  const lm = applyLora(
    base,
    {
      targetModules: ['fc'],
      r: 4,
      loraAlpha: 8,
      loraDropout: opts.dropout ?? 0,
      bias: opts.trainBias ? 'all' : 'none',
    },
    { seed: 3 },
  );
  const w = lm.loraLayers()[0].layer.weightsOf('default');
  tf.tidy(() => {
    w.loraA.write(rand(w.loraA.shape as number[]));
    w.loraB.write(rand(w.loraB.shape as number[]));
  });
  return { base, lm, layer: lm.loraLayers()[0].layer };
}

/** The layer's output recomputed from its weights with plain ops (autodiff reference). */
function referenceOutput(layer: ReturnType<typeof loraDense>['layer'], x: tf.Tensor): tf.Tensor {
  const [kernel, bias] = [requireWeight(layer.layer, 'kernel').read(), weightByName(layer.layer, 'bias')?.read()];
  const w = layer.weightsOf('default');
  const flatX = tf.reshape(x, [-1, x.shape[x.rank - 1]]) as tf.Tensor2D;
  let y = tf.add(
    tf.matMul(flatX, kernel as tf.Tensor2D),
    tf.mul(tf.matMul(tf.matMul(flatX, w.loraA.read() as tf.Tensor2D), w.loraB.read() as tf.Tensor2D), w.scaling),
  );
  if (bias) y = tf.add(y, bias);
  return tf.tanh(tf.reshape(y, [...x.shape.slice(0, -1), kernel.shape[1] as number]));
}

describe('LoRA Dense layer with the hand-written gradient (cpu)', () => {
  const layerCases: [string, { useBias?: boolean; trainBias?: boolean; rank3?: boolean }][] = [
    ['frozen bias, rank 2', { trainBias: false }],
    ['trainable bias (bias: all), rank 3', { trainBias: true, rank3: true }],
    ['no bias', { useBias: false }],
  ];
  it.each(layerCases)('%s: gradients of every trainable variable match autodiff, no leaks', (_n, opts) => {
    const { base, lm, layer } = loraDense(opts);
    const x = rand(opts.rank3 ? [4, 3, 6] : [4, 6]);
    const vars = lm.model.trainableWeights.map((v) => v.read() as tf.Variable);
    expect(vars.length).toBe(opts.trainBias ? 3 : 2);
    const before = tf.memory().numTensors;
    const ours = tf.variableGrads(
      () => tf.sum(tf.square(lm.model.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar,
      vars,
    );
    const want = tf.variableGrads(() => tf.sum(tf.square(referenceOutput(layer, x))) as tf.Scalar, vars);
    expect(Math.abs(ours.value.dataSync()[0] - want.value.dataSync()[0])).toBeLessThan(1e-4);
    for (const v of vars) expect(relDiff(ours.grads[v.name], want.grads[v.name]), v.name).toBeLessThan(TOL);
    tf.dispose([ours.value, want.value, ...Object.values(ours.grads), ...Object.values(want.grads)]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(x);
    lm.dispose();
    base.dispose();
  });

  it('falls back to autodiff when the base kernel is made trainable, and then also trains it', () => {
    const { base, lm, layer } = loraDense({});
    const kernel = requireWeight(layer.layer, 'kernel');
    kernel.trainable = true;
    const x = rand([4, 6]);
    const vars = lm.model.trainableWeights.map((w) => w.read() as tf.Variable);
    expect(vars).toContain(kernel.read());
    const ours = tf.variableGrads(
      () => tf.sum(tf.square(lm.model.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar,
      vars,
    );
    const want = tf.variableGrads(() => tf.sum(tf.square(referenceOutput(layer, x))) as tf.Scalar, vars);
    for (const v of vars) expect(relDiff(ours.grads[v.name], want.grads[v.name]), v.name).toBeLessThan(TOL);
    tf.dispose([x, ours.value, want.value, ...Object.values(ours.grads), ...Object.values(want.grads)]);
    lm.dispose();
    base.dispose();
  });

  it('with LoRA dropout in training, drops only the LoRA branch input (PEFT) and leaks nothing', () => {
    const { base, lm, layer } = loraDense({ dropout: 0.5 });
    const w = layer.weightsOf('default');
    const x = rand([64, 6]);
    const vars = [w.loraA.read() as tf.Variable, w.loraB.read() as tf.Variable];
    const before = tf.memory().numTensors;
    // B = 0: the LoRA branch is zero, so the training output must equal the base output exactly.
    const savedB = tf.clone(w.loraB.read());
    tf.tidy(() => {
      w.loraB.write(tf.zerosLike(savedB));
    });
    const y = tf.tidy(
      () =>
        tf
          .max(tf.abs(tf.sub(lm.model.apply(x, { training: true }) as tf.Tensor, base.apply(x) as tf.Tensor)))
          .dataSync()[0],
    );
    expect(y).toBe(0);
    // With B = 0, dA = 0 and dB = s·(drop(x)·A)ᵀ·dy: roughly half of x's entries dropped makes dB differ
    // from the no-dropout dB, while the base gradient path is untouched.
    const { value, grads } = tf.variableGrads(
      () => tf.sum(lm.model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
      vars,
    );
    const noDrop = tf.variableGrads(
      () => tf.sum(lm.model.apply(x, { training: false }) as tf.Tensor) as tf.Scalar,
      vars,
    );
    expect(tf.tidy(() => tf.max(tf.abs(grads[vars[0].name])).dataSync()[0])).toBe(0);
    expect(relDiff(grads[vars[1].name], noDrop.grads[vars[1].name])).toBeGreaterThan(1e-3);
    tf.dispose([value, noDrop.value, ...Object.values(grads), ...Object.values(noDrop.grads)]);
    w.loraB.write(savedB);
    savedB.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(x);
    lm.dispose();
    base.dispose();
  });

  it('a training step with optimizer.minimize leaks no tensors after the first (optimizer state) step', () => {
    const { base, lm } = loraDense({});
    const x = rand([8, 6]);
    const opt = tf.train.adam(1e-2);
    const vars = lm.model.trainableWeights.map((v) => v.read() as tf.Variable);
    const step = () =>
      tf.dispose(
        opt.minimize(
          () => tf.sum(tf.square(lm.model.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar,
          true,
          vars,
        )!,
      );
    step();
    const before = tf.memory().numTensors;
    step();
    step();
    expect(tf.memory().numTensors).toBe(before);
    opt.dispose();
    tf.dispose(x);
    lm.dispose();
    base.dispose();
  });

  it("a backend's fused loraMatMul still takes precedence in training (rank-2 input), the custom gradient otherwise", async () => {
    let calls = 0;
    registerLoraBackend({
      name: 'cpu-fused-training',
      tfBackend: 'cpu',
      priority: 1,
      isAvailable: async () => ({ ok: true }),
      init: async () => {},
      kernels: { loraMatMul: (args) => (calls++, composedLoraMatMul(args)) },
    });
    try {
      await useBackend('cpu-fused-training');
      const { base, lm } = loraDense({});
      const vars = lm.model.trainableWeights.map((v) => v.read() as tf.Variable);
      const grad = (x: tf.Tensor) =>
        tf.tidy(() =>
          tf
            .variableGrads(() => tf.sum(lm.model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar, vars)
            .grads[vars[0]!.name]!.dataSync(),
        );
      const x2 = rand([3, 6]);
      const start = calls;
      const fusedGrad = tf.tensor(grad(x2));
      const used = calls - start;
      expect(used).toBeGreaterThan(0);
      unregisterLoraBackend('cpu-fused-training');
      await useBackend('cpu');
      const customGrad = tf.tensor(grad(x2));
      expect(calls - start).toBe(used); // plain cpu: the hand-written gradient, not the backend kernel
      expect(maxAbsDiff(fusedGrad, customGrad)).toBeLessThan(1e-5);
      tf.dispose([fusedGrad, customGrad]);
      tf.dispose(x2);
      lm.dispose();
      base.dispose();
    } finally {
      unregisterLoraBackend('cpu-fused-training');
      await useBackend('cpu');
    }
  });
});
