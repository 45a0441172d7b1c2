import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import type { InitLoraWeights } from './config.js';
import { LoraConfigError } from './errors/index.js';
import { initDenseLora, kaimingUniform, type DenseLoraInit } from './init.js';
import { svd } from './svd.js';
import { seededRandom } from './random.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

type M = number[][];
const mul = (a: M, b: M): M =>
  a.map((row) => (b[0] ?? []).map((_, j) => row.reduce((acc, x, l) => acc + x * b[l]![j]!, 0)));
const tr = (a: M): M => (a[0] ?? []).map((_, j) => a.map((row) => row[j]!));
const sub = (a: M, b: M): M => a.map((row, i) => row.map((x, j) => x - b[i]![j]!));
const scale = (a: M, c: number): M => a.map((row) => row.map((x) => x * c));
const maxAbs = (a: M): number => Math.max(0, ...a.flat().map(Math.abs));
const sumSq = (a: M): number => a.flat().reduce((acc, x) => acc + x * x, 0);
const eye = (n: number): M =>
  Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
const stats = (xs: Float32Array | number[]): { mean: number; variance: number; max: number } => {
  let mean = 0;
  for (const x of xs) mean += x / xs.length;
  let variance = 0;
  for (const x of xs) variance += (x - mean) ** 2 / xs.length;
  return { mean, variance, max: Math.max(...Array.from(xs, Math.abs)) };
};

/** Deterministic uniform(-1, 1) matrix (mulberry32), independent of tfjs. */
function randomMat(m: number, n: number, seed: number): M {
  const uniform = seededRandom(seed);
  const next = (): number => uniform() * 2 - 1;
  return Array.from({ length: m }, () => Array.from({ length: n }, next));
}

/** Runs initDenseLora, checks shapes and that it leaves only its results behind, and reads them. */
function run(kernel: M, r: number, scaling: number, mode: InitLoraWeights, seed?: number) {
  const k = tf.tensor2d(kernel);
  const before = tf.memory().numTensors;
  const init: DenseLoraInit = initDenseLora(k, r, scaling, mode, { seed });
  const returned = init.residualKernel ? 3 : 2;
  expect(tf.memory().numTensors).toBe(before + returned);
  const [inF, outF] = k.shape;
  expect(init.loraA.shape).toEqual([inF, r]);
  expect(init.loraB.shape).toEqual([r, outF]);
  const out = { a: init.loraA.arraySync(), b: init.loraB.arraySync(), residual: init.residualKernel?.arraySync() };
  tf.dispose([k, init.loraA, init.loraB, init.residualKernel ?? []]);
  expect(tf.memory().numTensors).toBe(before - 1);
  return out;
}

describe('kaimingUniform', () => {
  it('samples U(-1/√fanIn, 1/√fanIn) (kaiming_uniform_ with a = √5)', () => {
    const before = tf.memory().numTensors;
    const t = kaimingUniform([3, 3, 16, 64], 144, 5);
    expect(tf.memory().numTensors).toBe(before + 1);
    expect(t.shape).toEqual([3, 3, 16, 64]);
    const bound = 1 / 12;
    const { mean, variance, max } = stats(t.dataSync() as Float32Array);
    const n = t.size;
    expect(max).toBeLessThanOrEqual(bound);
    expect(max).toBeGreaterThan(0.999 * bound);
    expect(Math.abs(mean)).toBeLessThan((5 * bound) / Math.sqrt(3 * n));
    expect(Math.abs(variance / (bound ** 2 / 3) - 1)).toBeLessThan(0.03);
    t.dispose();
  });

  it('is deterministic given a seed, 0 included', () => {
    for (const seed of [0, 17]) {
      const a = kaimingUniform([10], 4, seed);
      const b = kaimingUniform([10], 4, seed);
      expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
      tf.dispose([a, b]);
    }
  });

  it('rejects a non-positive fan-in', () => {
    expect(() => kaimingUniform([2, 2], 0)).toThrow(expect.objectContaining({ name: 'ShapeMismatchError' }));
  });
});

describe('initDenseLora: random modes', () => {
  const kernel = randomMat(512, 48, 1);

  it('true: A ~ U(±1/√in) over PEFT fan-in = in, B = 0, kernel unchanged', () => {
    const { a, b, residual } = run(kernel, 64, 2, true, 3);
    const bound = 1 / Math.sqrt(512);
    const { mean, variance, max } = stats(a.flat());
    expect(max).toBeLessThanOrEqual(bound);
    expect(max).toBeGreaterThan(0.999 * bound);
    expect(Math.abs(mean)).toBeLessThan((5 * bound) / Math.sqrt(3 * 512 * 64));
    expect(Math.abs(variance / (bound ** 2 / 3) - 1)).toBeLessThan(0.03);
    expect(maxAbs(b)).toBe(0);
    expect(residual).toBeUndefined();
  });

  it("false: no reset, both factors keep nn.Linear's init (B is not zero: U(±1/√r))", () => {
    const r = 16;
    const { a, b, residual } = run(kernel, r, 2, false, 3);
    expect(maxAbs(a)).toBeLessThanOrEqual(1 / Math.sqrt(512));
    const { mean, variance, max } = stats(b.flat());
    const bound = 1 / Math.sqrt(r);
    expect(max).toBeLessThanOrEqual(bound);
    expect(max).toBeGreaterThan(0.98 * bound);
    expect(Math.abs(mean)).toBeLessThan((5 * bound) / Math.sqrt(3 * r * 48));
    expect(Math.abs(variance / (bound ** 2 / 3) - 1)).toBeLessThan(0.1);
    expect(residual).toBeUndefined();
  });

  it('gaussian: A ~ N(0, (1/r)²), B = 0', () => {
    const r = 8;
    const { a, b } = run(kernel, r, 2, 'gaussian', 3);
    const { mean, variance } = stats(a.flat());
    expect(Math.abs(mean)).toBeLessThan(5 / r / Math.sqrt(512 * r));
    expect(Math.abs(Math.sqrt(variance) * r - 1)).toBeLessThan(0.03);
    expect(maxAbs(b)).toBe(0);
    expect(run(kernel, r, 2, 'Gaussian' as InitLoraWeights, 3).a).toEqual(a); // PEFT lower-cases it
  });

  it('is deterministic given a seed and differs between seeds and between A and B', () => {
    const small = randomMat(16, 12, 2);
    expect(run(small, 4, 1, false, 0)).toEqual(run(small, 4, 1, false, 0));
    expect(run(small, 4, 1, 'gaussian', 9)).toEqual(run(small, 4, 1, 'gaussian', 9));
    expect(run(small, 4, 1, true, 1).a).not.toEqual(run(small, 4, 1, true, 2).a);
    const { a, b } = run(small, 4, 1, false, 5);
    expect(a.flat().slice(0, 4)).not.toEqual(b.flat().slice(0, 4));
  });
});

describe('initDenseLora: PiSSA', () => {
  // kernel [in=4, out=3] and references from numpy (float64): W = kernelᵀ, rank-2 truncated SVD.
  const kernel = [
    [0.5, -1.2, 0.3],
    [2.0, 0.1, -0.7],
    [-0.4, 0.9, 1.5],
    [1.1, -0.3, 0.2],
  ];
  const rank2 = [
    [0.438742531, -0.328937129, -0.42956982],
    [2.022486589, -0.219752565, -0.43218716],
    [-0.413526066, 1.09233661, 1.338906019],
    [1.077545308, 0.019299007, -0.067432956],
  ];
  const singular = [2.605861541, 1.530730344, 1.306273419];

  it('moves the best rank-r approximation into scaling·A·B (numpy reference) and keeps W exact', () => {
    const scaling = 2;
    const { a, b, residual } = run(kernel, 2, scaling, 'pissa');
    expect(maxAbs(sub(scale(mul(a, b), scaling), rank2))).toBeLessThan(1e-5);
    expect(maxAbs(sub(residual!, sub(kernel, rank2)))).toBeLessThan(1e-5);
    expect(maxAbs(sub(residual!, sub(kernel, scale(mul(a, b), scaling))))).toBeLessThan(1e-6);
    // A = u·√(S/scaling), B = √(S/scaling)·vᵀ: AᵀA = BBᵀ = diag(S_r / scaling)
    const d = [singular[0]! / scaling, singular[1]! / scaling];
    const diag = [
      [d[0]!, 0],
      [0, d[1]!],
    ];
    expect(maxAbs(sub(mul(tr(a), a), diag))).toBeLessThan(1e-5);
    expect(maxAbs(sub(mul(b, tr(b)), diag))).toBeLessThan(1e-5);
  });

  it('takes its factors from the top singular vectors; the error left is the tail of the spectrum', () => {
    const w = randomMat(24, 16, 3);
    const r = 5;
    const scaling = 0.5;
    const { a, b, residual } = run(w, r, scaling, 'pissa');
    expect(maxAbs(sub(sub(w, residual!), scale(mul(a, b), scaling)))).toBeLessThan(1e-5);
    const t = tf.tensor2d(w);
    const ref = svd(t);
    const s = Array.from(ref.s.dataSync());
    const u = ref.u.arraySync();
    tf.dispose([t, ref.u, ref.s, ref.v]);
    const tail = s.slice(r).reduce((acc, x) => acc + x * x, 0);
    expect(Math.abs(sumSq(residual!) / tail - 1)).toBeLessThan(1e-4);
    for (let l = 0; l < r; l++) {
      const root = Math.sqrt(s[l]! / scaling);
      const col = a.map((row) => row[l]! / root);
      const c = col.reduce((acc, x, i) => acc + x * u[i]![l]!, 0);
      expect(Math.abs(c)).toBeGreaterThan(1 - 1e-5);
    }
  });

  it("'pissa_niter_K' uses the randomized SVD: near-best rank-r part, exact reconstruction", () => {
    const w = randomMat(40, 30, 4);
    const r = 4;
    const exact = run(w, r, 1, 'pissa');
    const fast = run(w, r, 1, 'pissa_niter_8', 1);
    expect(maxAbs(sub(sub(w, fast.residual!), mul(fast.a, fast.b)))).toBeLessThan(1e-5);
    const ratio = sumSq(fast.residual!) / sumSq(exact.residual!);
    expect(ratio).toBeGreaterThanOrEqual(1 - 1e-5);
    expect(ratio).toBeLessThan(1.01);
    expect(run(w, r, 1, 'pissa_niter_8', 1)).toEqual(fast);
  });

  it('rejects r > min(in, out), a non-positive scaling and malformed iteration counts', () => {
    const err = (field: string) => expect.objectContaining({ name: 'LoraConfigError', field });
    const k = tf.tensor2d(kernel);
    expect(() => initDenseLora(k, 4, 1, 'pissa')).toThrow(err('r'));
    expect(() => initDenseLora(k, 4, 1, 'pissa_niter_2')).toThrow(err('r'));
    expect(() => initDenseLora(k, 2, 0, 'pissa')).toThrow(err('loraAlpha'));
    for (const mode of ['pissa_niter_', 'pissa_niter_x', 'pissa_niter_-1', 'pissa_fast']) {
      expect(() => initDenseLora(k, 2, 1, mode as InitLoraWeights)).toThrow(err('initLoraWeights'));
    }
    k.dispose();
  });
});

describe('initDenseLora: OLoRA', () => {
  // numpy.linalg.qr(kernelᵀ) (LAPACK signs): B = Q[:, :2]ᵀ, A = R[:2]ᵀ; residual = kernel − 0.5·A·B.
  const kernel = [
    [0.5, -1.2, 0.3],
    [2.0, 0.1, -0.7],
    [-0.4, 0.9, 1.5],
    [1.1, -0.3, 0.2],
  ];
  const loraA = [
    [-1.334166406, 0],
    [-0.502186232, -2.061021346],
    [0.622111302, 0.70236258],
    [-0.727045738, -0.807797379],
  ];
  const loraB = [
    [-0.374765844, 0.899438027, -0.224859507],
    [-0.879077626, -0.26767573, 0.394426457],
  ];
  const residual = [
    [0.25, -0.6, 0.15],
    [1.0, 0.05, -0.35],
    [0.025288648, 0.714227427, 1.431428628],
    [0.608705744, -0.081147584, 0.277566756],
  ];

  it('matches the QR factors and residual of PEFT (numpy reference)', () => {
    const out = run(kernel, 2, 0.5, 'olora');
    expect(maxAbs(sub(out.a, loraA))).toBeLessThan(1e-6);
    expect(maxAbs(sub(out.b, loraB))).toBeLessThan(1e-6);
    expect(maxAbs(sub(out.residual!, residual))).toBeLessThan(1e-6);
  });

  it("keeps W exact, B's PEFT columns (our rows) orthonormal and A's PEFT rows upper-triangular", () => {
    const w = randomMat(20, 30, 6);
    const r = 6;
    const scaling = 1.5;
    const { a, b, residual } = run(w, r, scaling, 'OLoRA' as InitLoraWeights);
    expect(maxAbs(sub(sub(w, residual!), scale(mul(a, b), scaling)))).toBeLessThan(1e-5);
    expect(maxAbs(sub(mul(b, tr(b)), eye(r)))).toBeLessThan(1e-5);
    for (let l = 0; l < r; l++) for (let i = 0; i < l; i++) expect(a[i]![l]).toBe(0);
  });

  it('rejects r > min(in, out)', () => {
    const k = tf.tensor2d(randomMat(5, 3, 1));
    expect(() => initDenseLora(k, 4, 1, 'olora')).toThrow(LoraConfigError);
    expect(() => initDenseLora(k, 4, 1, 'olora')).toThrow(expect.objectContaining({ field: 'r' }));
    k.dispose();
  });
});

describe('initDenseLora: validation', () => {
  it('rejects a bad r, a non-finite scaling and unknown modes', () => {
    const err = (field: string) => expect.objectContaining({ name: 'LoraConfigError', field });
    const k = tf.tensor2d(randomMat(6, 4, 1));
    const before = tf.memory().numTensors;
    for (const r of [0, -2, 1.5]) expect(() => initDenseLora(k, r, 1, true)).toThrow(err('r'));
    expect(() => initDenseLora(k, 2, Number.NaN, true)).toThrow(err('loraAlpha'));
    for (const mode of ['loftq', 'PISSA', 'eva']) {
      expect(() => initDenseLora(k, 2, 1, mode as InitLoraWeights)).toThrow(err('initLoraWeights'));
    }
    expect(tf.memory().numTensors).toBe(before);
    k.dispose();
  });
});
