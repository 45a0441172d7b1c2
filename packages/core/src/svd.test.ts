import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { LoraConfigError, LoraError, ShapeMismatchError } from './errors/index.js';
import { householderQr, svd, svdLowRank, type SvdResult } from './svd.js';
import { seededRandom } from './random.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

type M = number[][];

const mul = (a: M, b: M): M =>
  a.map((row) => (b[0] ?? []).map((_, j) => row.reduce((acc, x, l) => acc + x * b[l]![j]!, 0)));
const tr = (a: M): M => (a[0] ?? []).map((_, j) => a.map((row) => row[j]!));
const frob = (a: M): number => Math.sqrt(a.flat().reduce((acc, x) => acc + x * x, 0));
const sub = (a: M, b: M): M => a.map((row, i) => row.map((x, j) => x - b[i]![j]!));
const maxAbs = (a: M): number => Math.max(0, ...a.flat().map(Math.abs));
const eye = (n: number): M =>
  Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
const compose = (u: M, s: number[], v: M): M =>
  mul(
    u.map((row) => row.map((x, j) => x * s[j]!)),
    tr(v),
  );

/** Deterministic uniform(-1, 1) numbers, independent of tfjs. */
function rng(seed: number): () => number {
  const next = seededRandom(seed);
  return () => next() * 2 - 1;
}
const randomMat = (m: number, n: number, seed: number): M => {
  const next = rng(seed);
  return Array.from({ length: m }, () => Array.from({ length: n }, next));
};
/** k orthonormal columns in R^m by modified Gram-Schmidt (an independent construction). */
function orthonormal(m: number, k: number, seed: number): M {
  const cols = tr(randomMat(m, k, seed));
  const out: number[][] = [];
  for (const c of cols) {
    const w = [...c];
    for (let pass = 0; pass < 2; pass++) {
      for (const q of out) {
        const d = q.reduce((acc, x, i) => acc + x * w[i]!, 0);
        q.forEach((x, i) => (w[i] = w[i]! - d * x));
      }
    }
    const n = Math.hypot(...w);
    out.push(w.map((x) => x / n));
  }
  return tr(out);
}

function read(r: SvdResult): { u: M; s: number[]; v: M } {
  const out = { u: r.u.arraySync(), s: Array.from(r.s.dataSync()), v: r.v.arraySync() };
  tf.dispose([r.u, r.s, r.v]);
  return out;
}

/** Runs svd and checks every property of a thin SVD; returns the factors. */
function checkedSvd(a: M): { u: M; s: number[]; v: M } {
  const m = a.length;
  const n = a[0]!.length;
  const k = Math.min(m, n);
  const t = tf.tensor2d(a);
  const before = tf.memory().numTensors;
  const res = svd(t);
  expect(tf.memory().numTensors).toBe(before + 3);
  expect(res.u.shape).toEqual([m, k]);
  expect(res.s.shape).toEqual([k]);
  expect(res.v.shape).toEqual([n, k]);
  // float32 reconstruction with tfjs ops
  const rel32 = tf.tidy(() => {
    const rec = tf.matMul(tf.mul(res.u, res.s), res.v, false, true);
    return tf.norm(tf.sub(rec, t)).dataSync()[0]! / Math.max(tf.norm(t).dataSync()[0]!, 1e-30);
  });
  expect(rel32).toBeLessThan(1e-4);
  const { u, s, v } = read(res);
  t.dispose();
  expect(tf.memory().numTensors).toBe(before - 1);
  s.forEach((x, i) => {
    expect(x).toBeGreaterThanOrEqual(0);
    if (i > 0) expect(x).toBeLessThanOrEqual(s[i - 1]!);
  });
  expect(maxAbs(sub(mul(tr(u), u), eye(k)))).toBeLessThan(1e-5);
  expect(maxAbs(sub(mul(tr(v), v), eye(k)))).toBeLessThan(1e-5);
  const scale = Math.max(frob(a), 1e-30);
  expect(frob(sub(compose(u, s, v), a)) / scale).toBeLessThan(1e-5);
  return { u, s, v };
}

describe('svd', () => {
  it('gives the sorted absolute diagonal of a diagonal matrix', () => {
    const { s } = checkedSvd([
      [3, 0, 0, 0],
      [0, -5, 0, 0],
      [0, 0, 1, 0],
      [0, 0, 0, 0],
    ]);
    [5, 3, 1, 0].forEach((x, i) => expect(s[i]).toBeCloseTo(x, 6));
  });

  it('handles a permuted rectangular diagonal (wide)', () => {
    const { s } = checkedSvd([
      [0, 0, 2, 0, 0],
      [-7, 0, 0, 0, 0],
      [0, 0, 0, 0, 0.5],
    ]);
    [7, 2, 0.5].forEach((x, i) => expect(s[i]).toBeCloseTo(x, 6));
  });

  it('finds |x|·|y| for a rank-1 outer product, zeros elsewhere, with a full orthonormal u', () => {
    const x = [1, -2, 0.5, 3, 0, 1.5];
    const y = [2, 0.25, -1, 4];
    const { s, u, v } = checkedSvd(x.map((xi) => y.map((yj) => xi * yj)));
    expect(s[0]! / (Math.hypot(...x) * Math.hypot(...y))).toBeCloseTo(1, 6);
    s.slice(1).forEach((t) => expect(t).toBeLessThan(1e-6 * s[0]!));
    // first singular vectors are ±x/|x| and ±y/|y|, with matching signs
    const cu = u.map((row) => row[0]!).reduce((acc, t, i) => acc + (t * x[i]!) / Math.hypot(...x), 0);
    const cv = v.map((row) => row[0]!).reduce((acc, t, i) => acc + (t * y[i]!) / Math.hypot(...y), 0);
    expect(Math.abs(cu)).toBeCloseTo(1, 6);
    expect(cu * cv).toBeCloseTo(1, 6);
  });

  it('recovers singular values and vectors of a matrix built from known orthogonal factors', () => {
    const sTrue = [10, 4, 2.5, 1, 0.5];
    const U = orthonormal(9, 5, 1);
    const V = orthonormal(7, 5, 2);
    for (const a of [compose(U, sTrue, V), tr(compose(U, sTrue, V))]) {
      const wide = a.length < a[0]!.length;
      const { s, u, v } = checkedSvd(a);
      expect(s).toHaveLength(7);
      sTrue.forEach((x, i) => expect(Math.abs(s[i]! - x) / x).toBeLessThan(1e-5));
      s.slice(5).forEach((t) => expect(t).toBeLessThan(1e-5));
      const [left, right] = wide ? [V, U] : [U, V];
      for (let i = 0; i < 5; i++) {
        const cu = u.reduce((acc, row, r) => acc + row[i]! * left[r]![i]!, 0);
        const cv = v.reduce((acc, row, r) => acc + row[i]! * right[r]![i]!, 0);
        expect(Math.abs(cu)).toBeCloseTo(1, 5);
        expect(cu * cv).toBeCloseTo(1, 5); // same sign on both sides
      }
    }
  });

  it.each([
    [30, 7],
    [7, 30],
    [12, 12],
    [60, 40],
  ])('decomposes a random %i×%i matrix', (m, n) => {
    checkedSvd(randomMat(m, n, m * 100 + n));
  });

  it('handles rank-deficient matrices (rank 3 of 10×8) with orthonormal u and v', () => {
    const a = mul(randomMat(10, 3, 5), randomMat(3, 8, 6));
    const { s } = checkedSvd(a);
    s.slice(3).forEach((t) => expect(t).toBeLessThan(1e-5 * s[0]!));
    expect(s[2]).toBeGreaterThan(1e-2);
  });

  it('handles 1×n, n×1, 1×1 and all-zero matrices', () => {
    const row = checkedSvd([[3, 4]]);
    expect(row.s[0]).toBeCloseTo(5, 6);
    expect(Math.abs(row.v[0]![0]!)).toBeCloseTo(0.6, 6);
    expect(checkedSvd([[1], [2], [2]]).s[0]).toBeCloseTo(3, 6);
    expect(checkedSvd([[-2]]).s[0]).toBeCloseTo(2, 6);
    expect(checkedSvd(randomMat(1, 20, 9)).s).toHaveLength(1);
    const zero = checkedSvd([
      [0, 0],
      [0, 0],
      [0, 0],
    ]);
    expect(zero.s).toEqual([0, 0]);
  });

  it('rejects non-finite values and tensors that are not matrices', () => {
    const bad = tf.tensor2d([
      [1, Number.NaN],
      [0, 1],
    ]);
    expect(() => svd(bad)).toThrow(LoraError);
    bad.dispose();
    const cube = tf.zeros([2, 2, 2]);
    expect(() => svd(cube as tf.Tensor2D)).toThrow(ShapeMismatchError);
    cube.dispose();
  });
});

describe('householderQr', () => {
  // References computed with numpy.linalg.qr (LAPACK geqrf/orgqr, as torch.linalg.qr on the CPU).
  const tall = [
    [-2, 1, 0.5],
    [1, 3, -1],
    [0, -1, 2],
    [4, 0.5, 1],
    [1, 1, 1],
  ];
  const tallQ = [
    [-0.426401433, -0.401717668, -0.49722668],
    [0.213200716, -0.830216513, 0.112276992],
    [0, 0.294592956, -0.705741094],
    [0.852802865, 0.066952945, -0.160395703],
    [0.213200716, -0.241030601, -0.465147539],
  ];
  const tallR = [
    [4.69041576, 0.852802865, 0.639602149],
    [0, -3.394514291, 1.044465936],
    [0, 0, -2.397915762],
  ];
  const wide = [
    [0.5, 2.0, -0.4, 1.1],
    [-1.2, 0.1, 0.9, -0.3],
    [0.3, -0.7, 1.5, 0.2],
  ];
  const wideQ = [
    [-0.374765844, -0.879077626, 0.294572722],
    [0.899438027, -0.26767573, 0.345486526],
    [-0.224859507, 0.394426457, 0.890991567],
  ];
  const wideR = [
    [-1.334166406, -0.502186232, 0.622111302, -0.727045738],
    [0, -2.061021346, 0.70236258, -0.807797379],
    [0, 0, 1.529596134, 0.39858235],
  ];

  it.each([
    ['tall', tall, tallQ, tallR],
    ['wide', wide, wideQ, wideR],
  ])('matches LAPACK signs and values (%s)', (_name, a, qRef, rRef) => {
    const t = tf.tensor2d(a);
    const before = tf.memory().numTensors;
    const { q, r } = householderQr(t);
    expect(tf.memory().numTensors).toBe(before + 2);
    expect(maxAbs(sub(q.arraySync(), qRef))).toBeLessThan(1e-6);
    expect(maxAbs(sub(r.arraySync(), rRef))).toBeLessThan(1e-6);
    tf.dispose([q, r, t]);
  });

  it('keeps only the first `rank` columns when asked, identical to the full ones', () => {
    const t = tf.tensor2d(randomMat(8, 5, 3));
    const full = householderQr(t);
    const part = householderQr(t, 2);
    expect(part.q.shape).toEqual([8, 2]);
    expect(part.r.shape).toEqual([2, 5]);
    const fq = full.q.arraySync();
    const fr = full.r.arraySync();
    expect(
      maxAbs(
        sub(
          part.q.arraySync(),
          fq.map((row) => row.slice(0, 2)),
        ),
      ),
    ).toBe(0);
    expect(maxAbs(sub(part.r.arraySync(), fr.slice(0, 2)))).toBe(0);
    expect(maxAbs(sub(mul(fq, fr), randomMat(8, 5, 3)))).toBeLessThan(1e-6);
    expect(() => householderQr(t, 6)).toThrow(LoraConfigError);
    tf.dispose([t, full.q, full.r, part.q, part.r]);
  });
});

describe('svdLowRank', () => {
  const spectrum = [50, 20, 10, 5, 0.05, 0.02, 0.01, 0.005];
  const decaying = (m: number, n: number): M =>
    compose(orthonormal(m, spectrum.length, 11), spectrum, orthonormal(n, spectrum.length, 12));

  it.each([
    [40, 30],
    [30, 40],
  ])('matches the top-k of svd on a %i×%i matrix with a decaying spectrum', (m, n) => {
    const t = tf.tensor2d(decaying(m, n));
    const before = tf.memory().numTensors;
    const low = svdLowRank(t, 4, 2, 7);
    expect(tf.memory().numTensors).toBe(before + 3);
    expect(low.u.shape).toEqual([m, 4]);
    expect(low.v.shape).toEqual([n, 4]);
    const lr = read(low);
    const ex = read(svd(t));
    for (let i = 0; i < 4; i++) {
      expect(Math.abs(lr.s[i]! - ex.s[i]!) / ex.s[i]!).toBeLessThan(1e-5);
      const cu = lr.u.reduce((acc, row, r) => acc + row[i]! * ex.u[r]![i]!, 0);
      const cv = lr.v.reduce((acc, row, r) => acc + row[i]! * ex.v[r]![i]!, 0);
      expect(Math.abs(cu)).toBeGreaterThan(1 - 1e-5);
      expect(cu * cv).toBeGreaterThan(1 - 1e-5);
    }
    expect(maxAbs(sub(mul(tr(lr.u), lr.u), eye(4)))).toBeLessThan(1e-5);
    expect(maxAbs(sub(mul(tr(lr.v), lr.v), eye(4)))).toBeLessThan(1e-5);
    t.dispose();
    expect(tf.memory().numTensors).toBe(before - 1);
  });

  it('is exact on a matrix of rank k even without power iterations', () => {
    const a = mul(randomMat(20, 3, 21), randomMat(3, 15, 22));
    const t = tf.tensor2d(a);
    const { u, s, v } = read(svdLowRank(t, 3, 0, 1));
    expect(frob(sub(compose(u, s, v), a)) / frob(a)).toBeLessThan(1e-5);
    t.dispose();
  });

  it('is deterministic given a seed, seed 0 included', () => {
    const t = tf.tensor2d(randomMat(12, 10, 4));
    for (const seed of [0, 42]) {
      const first = read(svdLowRank(t, 3, 1, seed));
      const second = read(svdLowRank(t, 3, 1, seed));
      expect(second).toEqual(first);
    }
    t.dispose();
  });

  it('rejects a rank outside [1, min(m, n)] and a negative niter', () => {
    const t = tf.tensor2d(randomMat(6, 4, 8));
    for (const k of [0, 5, 1.5]) {
      expect(() => svdLowRank(t, k, 2)).toThrow(expect.objectContaining({ name: 'LoraConfigError', field: 'r' }));
    }
    expect(() => svdLowRank(t, 2, -1)).toThrow(
      expect.objectContaining({ name: 'LoraConfigError', field: 'initLoraWeights' }),
    );
    t.dispose();
  });
});
