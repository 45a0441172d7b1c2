import * as tf from '@tensorflow/tfjs-core';

import { LoraConfigError, LoraError, ShapeMismatchError } from './errors/index.js';

/** A thin singular value decomposition `a = u·diag(s)·vᵀ`, as float32 tensors. */
export interface SvdResult {
  /** Left singular vectors as orthonormal columns, [m, k]. */
  u: tf.Tensor2D;
  /** Singular values, non-negative and in descending order, [k]. */
  s: tf.Tensor1D;
  /** Right singular vectors as orthonormal columns, [n, k]. */
  v: tf.Tensor2D;
}

/** A reduced QR decomposition `a ≈ q·r` (exact when all columns are kept), as float32 tensors. */
export interface QrResult {
  /** Orthonormal columns, [m, k]. */
  q: tf.Tensor2D;
  /** Upper-triangular rows, [k, n]. */
  r: tf.Tensor2D;
}

/** Column-major float64 matrix: element (i, j) lives at `data[j * rows + i]`. */
interface Mat {
  rows: number;
  cols: number;
  data: Float64Array;
}

const MAX_SWEEPS = 60;

function checkMatrix(a: tf.Tensor, what: string): [number, number] {
  if (a.rank !== 2) {
    throw new ShapeMismatchError(
      `${what} expects a rank-2 tensor (a matrix), but got shape [${a.shape.join(', ')}]; reshape it to 2-D first.`,
    );
  }
  return a.shape as [number, number];
}

/** Column-major float64 copy of row-major `src` ([rows, cols]); throws on a non-finite element. */
function toMat(src: ArrayLike<number>, rows: number, cols: number, what: string): Mat {
  const data = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const x = src[i * cols + j] as number;
      if (!Number.isFinite(x)) {
        throw new LoraError(
          `${what} expects finite values, but element (${i}, ${j}) is ${x}; check the weights for NaN/Infinity.`,
        );
      }
      data[j * rows + i] = x;
    }
  }
  return { rows, cols, data };
}

/** Reads `a` synchronously: callers run on host backends only (see svdAsync for GPU backends). */
function readMat(a: tf.Tensor, what: string): Mat {
  const [rows, cols] = checkMatrix(a, what);
  return toMat(a.dataSync(), rows, cols, what);
}

function toTensor(m: Mat): tf.Tensor2D {
  const out = new Float32Array(m.rows * m.cols);
  for (let i = 0; i < m.rows; i++) {
    for (let j = 0; j < m.cols; j++) out[i * m.cols + j] = m.data[j * m.rows + i] as number;
  }
  return tf.tensor2d(out, [m.rows, m.cols], 'float32');
}

function transpose(m: Mat): Mat {
  const data = new Float64Array(m.rows * m.cols);
  for (let i = 0; i < m.rows; i++) {
    for (let j = 0; j < m.cols; j++) data[i * m.cols + j] = m.data[j * m.rows + i] as number;
  }
  return { rows: m.cols, cols: m.rows, data };
}

/** `a·b`, or `aᵀ·b` when `transA`. */
function matmul(a: Mat, b: Mat, transA = false): Mat {
  const rows = transA ? a.cols : a.rows;
  const c = new Float64Array(rows * b.cols);
  for (let j = 0; j < b.cols; j++) {
    const bj = j * b.rows;
    if (transA) {
      for (let l = 0; l < rows; l++) {
        let d = 0; // c(l, j) = a[:, l] · b[:, j]
        for (let i = 0; i < a.rows; i++) d += (a.data[l * a.rows + i] as number) * (b.data[bj + i] as number);
        c[j * rows + l] = d;
      }
    } else {
      for (let l = 0; l < a.cols; l++) {
        const blj = b.data[bj + l] as number;
        if (blj === 0) continue;
        for (let i = 0; i < rows; i++) c[j * rows + i] += (a.data[l * a.rows + i] as number) * blj;
      }
    }
  }
  return { rows, cols: b.cols, data: c };
}

function rotate(d: Float64Array, p: number, q: number, len: number, c: number, s: number): void {
  for (let i = 0; i < len; i++) {
    const x = d[p + i] as number;
    const y = d[q + i] as number;
    d[p + i] = c * x - s * y;
    d[q + i] = s * x + c * y;
  }
}

/** Fills the listed columns of `u` (others already orthonormal) with unit vectors orthogonal to the rest. */
function completeBasis(u: Mat, missing: number[]): void {
  const m = u.rows;
  const filled = new Set<number>();
  for (let j = 0; j < u.cols; j++) if (!missing.includes(j)) filled.add(j);
  for (const target of missing) {
    let best: Float64Array | undefined;
    let bestNorm = -1;
    for (let e = 0; e < m; e++) {
      const w = new Float64Array(m);
      w[e] = 1;
      for (let pass = 0; pass < 2; pass++) {
        for (const l of filled) {
          let d = 0;
          for (let i = 0; i < m; i++) d += (u.data[l * m + i] as number) * (w[i] as number);
          for (let i = 0; i < m; i++) w[i] = (w[i] as number) - d * (u.data[l * m + i] as number);
        }
      }
      let norm = 0;
      for (let i = 0; i < m; i++) norm += (w[i] as number) ** 2;
      if (norm > bestNorm) [best, bestNorm] = [w, norm];
    }
    const scale = 1 / Math.sqrt(bestNorm);
    for (let i = 0; i < m; i++) u.data[target * m + i] = (best?.[i] ?? 0) * scale;
    filled.add(target);
  }
}

/** One-sided (Hestenes) Jacobi SVD in float64; k = min(rows, cols). */
function jacobiSvd(a: Mat): { u: Mat; s: Float64Array; v: Mat } {
  if (a.rows < a.cols) {
    const t = jacobiSvd(transpose(a));
    return { u: t.v, s: t.s, v: t.u };
  }
  const { rows: m, cols: n } = a;
  const g = a.data.slice();
  const vRot = new Float64Array(n * n);
  for (let j = 0; j < n; j++) vRot[j * n + j] = 1;
  const tol = Number.EPSILON * Math.max(m, 1);
  for (let sweep = 0; sweep < MAX_SWEEPS; sweep++) {
    let rotated = false;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        let alpha = 0;
        let beta = 0;
        let gamma = 0;
        for (let i = 0; i < m; i++) {
          const x = g[p * m + i] as number;
          const y = g[q * m + i] as number;
          alpha += x * x;
          beta += y * y;
          gamma += x * y;
        }
        if (gamma === 0 || Math.abs(gamma) <= tol * Math.sqrt(alpha) * Math.sqrt(beta)) continue;
        rotated = true;
        const zeta = (beta - alpha) / (2 * gamma);
        const t = (zeta >= 0 ? 1 : -1) / (Math.abs(zeta) + Math.hypot(1, zeta));
        const c = 1 / Math.hypot(1, t);
        rotate(g, p * m, q * m, m, c, c * t);
        rotate(vRot, p * n, q * n, n, c, c * t);
      }
    }
    if (!rotated) break;
  }
  const norms = Array.from({ length: n }, (_, j) => {
    let ss = 0;
    for (let i = 0; i < m; i++) ss += (g[j * m + i] as number) ** 2;
    return Math.sqrt(ss);
  });
  const order = norms.map((_, j) => j).sort((x, y) => (norms[y] as number) - (norms[x] as number));
  const sMax = n > 0 ? (norms[order[0] as number] as number) : 0;
  const u: Mat = { rows: m, cols: n, data: new Float64Array(m * n) };
  const v: Mat = { rows: n, cols: n, data: new Float64Array(n * n) };
  const s = new Float64Array(n);
  const missing: number[] = [];
  order.forEach((j, r) => {
    v.data.set(vRot.subarray(j * n, (j + 1) * n), r * n);
    const sigma = norms[j] as number;
    if (sigma > 0 && sigma > sMax * Number.EPSILON) {
      s[r] = sigma;
      for (let i = 0; i < m; i++) u.data[r * m + i] = (g[j * m + i] as number) / sigma;
    } else {
      missing.push(r); // numerically zero: s stays 0, u gets an orthonormal completion
    }
  });
  completeBasis(u, missing);
  return { u, s, v };
}

/** Householder QR with LAPACK's conventions (geqrf + orgqr), keeping the first `keep` columns of q. */
function householder(a: Mat, keep: number): { q: Mat; r: Mat } {
  const { rows: m, cols: n } = a;
  const w = a.data.slice();
  const reflectors: { v: Float64Array; tau: number }[] = [];
  const reflect = (d: Float64Array, off: number, j: number, v: Float64Array, tau: number): void => {
    if (tau === 0) return;
    let dot = 0;
    for (let i = j; i < m; i++) dot += (v[i - j] as number) * (d[off + i] as number);
    dot *= tau;
    for (let i = j; i < m; i++) d[off + i] = (d[off + i] as number) - dot * (v[i - j] as number);
  };
  for (let j = 0; j < keep; j++) {
    const col = j * m;
    const alpha = w[col + j] as number;
    let xx = 0;
    for (let i = j + 1; i < m; i++) xx += (w[col + i] as number) ** 2;
    const v = new Float64Array(m - j);
    v[0] = 1;
    let tau = 0;
    if (xx > 0) {
      const beta = (alpha >= 0 ? -1 : 1) * Math.hypot(alpha, Math.sqrt(xx));
      tau = (beta - alpha) / beta;
      for (let i = j + 1; i < m; i++) {
        v[i - j] = (w[col + i] as number) / (alpha - beta);
        w[col + i] = 0;
      }
      w[col + j] = beta;
      for (let c = j + 1; c < n; c++) reflect(w, c * m, j, v, tau);
    }
    reflectors.push({ v, tau });
  }
  const r: Mat = { rows: keep, cols: n, data: new Float64Array(keep * n) };
  for (let c = 0; c < n; c++) {
    for (let i = 0; i < Math.min(keep, c + 1); i++) r.data[c * keep + i] = w[c * m + i] as number;
  }
  const q: Mat = { rows: m, cols: keep, data: new Float64Array(m * keep) };
  for (let c = 0; c < keep; c++) q.data[c * m + c] = 1;
  for (let j = keep - 1; j >= 0; j--) {
    const { v, tau } = reflectors[j] as { v: Float64Array; tau: number };
    for (let c = j; c < keep; c++) reflect(q.data, c * m, j, v, tau);
  }
  return { q, r };
}

/**
 * Thin SVD `a = u·diag(s)·vᵀ` of an m×n matrix, k = min(m, n): u [m, k], s [k] descending and
 * non-negative, v [n, k]. One-sided Jacobi in float64 on the CPU (data read with `dataSync`, so host backends
 * only; {@link svdAsync} reads asynchronously), result as
 * float32 tensors. Columns of u for zero singular values are completed to an orthonormal set. The sign
 * of each pair (uᵢ, vᵢ) is arbitrary, as in LAPACK.
 */
export function svd(a: tf.Tensor2D): SvdResult {
  const { u, s, v } = jacobiSvd(readMat(a, 'svd'));
  return { u: toTensor(u), s: tf.tensor1d(Float32Array.from(s), 'float32'), v: toTensor(v) };
}

/**
 * {@link svd} that reads its input with `await a.data()`, so it runs on every backend (webgpu in Node
 * included); the decomposition itself is the same float64 Jacobi SVD on the host.
 */
export async function svdAsync(a: tf.Tensor2D): Promise<SvdResult> {
  const [rows, cols] = checkMatrix(a, 'svdAsync');
  const { u, s, v } = jacobiSvd(toMat(await a.data(), rows, cols, 'svdAsync'));
  return { u: toTensor(u), s: tf.tensor1d(Float32Array.from(s), 'float32'), v: toTensor(v) };
}

/**
 * Reduced QR `a = q·r` of an m×n matrix with Householder reflections in float64, following LAPACK's
 * sign conventions (geqrf/orgqr, as `torch.linalg.qr` and `numpy.linalg.qr` on the CPU), so the
 * diagonal of r may be negative. With `rank` set, only the first `rank` columns of q and rows of r are
 * computed (they do not depend on the rest). Used by OLoRA and by {@link svdLowRank}.
 */
export function householderQr(a: tf.Tensor2D, rank?: number): QrResult {
  const mat = readMat(a, 'householderQr');
  const k = Math.min(mat.rows, mat.cols);
  const keep = rank ?? k;
  if (!Number.isInteger(keep) || keep < 0 || keep > k) {
    throw new LoraConfigError(
      `householderQr expects rank to be an integer in [0, min(m, n)] = [0, ${k}], but got ${rank}; pass a smaller rank.`,
      { field: 'r' },
    );
  }
  const { q, r } = householder(mat, keep);
  return { q: toTensor(q), r: toTensor(r) };
}

/** tfjs's Gaussian generator treats seed 0 as "no seed"; map every number to a distinct non-zero one. */
function normalSeed(seed: number | undefined): number | undefined {
  if (seed === undefined) return undefined;
  return seed >= 0 ? seed + 1 : seed;
}

/**
 * Randomized truncated SVD of rank k with `niter` power (subspace) iterations, as `torch.svd_lowrank`
 * with q = k (Halko et al. 2009, algorithms 4.4 and 5.1), for PiSSA's fast mode. A wide matrix is
 * handled through its transpose, as torch does. Deterministic given `seed` (any number, 0 included);
 * without one the Gaussian test matrix is random. Returns u [m, k], s [k], v [n, k].
 */
export function svdLowRank(a: tf.Tensor2D, k: number, niter: number, seed?: number): SvdResult {
  const input = readMat(a, 'svdLowRank');
  const minDim = Math.min(input.rows, input.cols);
  if (!Number.isInteger(k) || k < 1 || k > minDim) {
    throw new LoraConfigError(
      `svdLowRank expects a rank k in [1, min(m, n)] = [1, ${minDim}] for a [${input.rows}, ${input.cols}] ` +
        `matrix, but got ${k}; lower r.`,
      { field: 'r' },
    );
  }
  if (!Number.isInteger(niter) || niter < 0) {
    throw new LoraConfigError(
      `svdLowRank expects niter to be a non-negative integer, but got ${niter}; use e.g. 'pissa_niter_4'.`,
      { field: 'initLoraWeights' },
    );
  }
  const wide = input.rows < input.cols;
  const mat = wide ? transpose(input) : input;
  const omegaTensor = tf.randomNormal([mat.cols, k], 0, 1, 'float32', normalSeed(seed));
  const omega = readMat(omegaTensor, 'svdLowRank');
  omegaTensor.dispose();
  let q = householder(matmul(mat, omega), k).q;
  for (let it = 0; it < niter; it++) {
    q = householder(matmul(mat, q, true), k).q;
    q = householder(matmul(mat, q), k).q;
  }
  const small = jacobiSvd(matmul(q, mat, true)); // [k, cols] = ub·diag(s)·vᵀ
  const u = matmul(q, small.u);
  const [left, right] = wide ? [small.v, u] : [u, small.v];
  return { u: toTensor(left), s: tf.tensor1d(Float32Array.from(small.s), 'float32'), v: toTensor(right) };
}
