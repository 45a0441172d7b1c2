import * as tf from '@tensorflow/tfjs-core';

import type { InitLoraWeights } from './config.js';
import { LoraConfigError, ShapeMismatchError } from './errors/index.js';
import { householderQr, svd, svdLowRank, type SvdResult } from './svd.js';

/** Initial LoRA factors of one Dense layer, in tfjs layout (ΔW = scaling·loraA·loraB, [in, out]). */
export interface DenseLoraInit {
  /** [in, r]; PEFT's `lora_A.weight` [r, in] is its transpose. */
  loraA: tf.Tensor2D;
  /** [r, out]; PEFT's `lora_B.weight` [out, r] is its transpose. */
  loraB: tf.Tensor2D;
  /** new base kernel for methods that move the principal part out of W (PiSSA, OLoRA); undefined when W is unchanged */
  residualKernel?: tf.Tensor2D;
}

/** Options of {@link initDenseLora}. */
export interface InitDenseLoraOptions {
  /** Seed for the random modes (`true`, `false`, `'gaussian'`, `'pissa_niter_K'`); any number, 0 included. */
  seed?: number | undefined;
}

/** A per-factor seed derived from the user's seed (FNV-1a of `seed/stream`), never 0 (tfjs reads 0 as unseeded). */
function streamSeed(seed: number | undefined, stream: string): number | undefined {
  if (seed === undefined) return undefined;
  let h = 0x811c9dc5;
  for (const ch of `${seed}/${stream}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193);
  return h >>> 0 || 1;
}

/**
 * PyTorch's default init of a factor with fan-in `fanIn` (`nn.init.kaiming_uniform_(w, a=√5)`, as in
 * `nn.Linear`, `nn.Conv2d`): U(-bound, bound) with bound = gain·√(3/fanIn) = 1/√fanIn, gain = √(2/(1+a²)).
 * Used for LoRA A with `init_lora_weights=true` and for both factors with `false`.
 */
export function kaimingUniform(shape: number[], fanIn: number, seed?: number): tf.Tensor {
  if (!Number.isFinite(fanIn) || fanIn <= 0) {
    throw new ShapeMismatchError(
      `kaimingUniform expects a positive fan-in, but got ${fanIn} for shape [${shape.join(', ')}]; ` +
        'pass the number of inputs feeding each output unit (e.g. in_features·kh·kw).',
    );
  }
  const bound = 1 / Math.sqrt(fanIn);
  return tf.randomUniform(shape, -bound, bound, 'float32', seed === undefined ? undefined : String(seed));
}

function checkRankFits(r: number, inF: number, outF: number, mode: string): void {
  const max = Math.min(inF, outF);
  if (r > max) {
    throw new LoraConfigError(
      `init_lora_weights='${mode}' takes r ≤ min(in, out) = ${max} singular directions from a [${inF}, ${outF}] ` +
        `kernel, but r = ${r}; lower r to at most ${max} or use init_lora_weights=true.`,
      { field: 'r' },
    );
  }
}

/** A [rows, cols] row-major float32 matrix. */
interface Dense32 {
  rows: number;
  cols: number;
  data: Float32Array;
}

/** Tensors for A, B and the residual kernel − scaling·A·B (computed in float64 from the float32 factors). */
function withResidual(kernel: tf.Tensor2D, a: Dense32, b: Dense32, scaling: number): DenseLoraInit {
  const [inF, outF] = kernel.shape;
  const w = kernel.dataSync();
  const r = a.cols;
  const res = new Float32Array(inF * outF);
  for (let i = 0; i < inF; i++) {
    for (let o = 0; o < outF; o++) {
      let d = 0;
      for (let l = 0; l < r; l++) d += (a.data[i * r + l] as number) * (b.data[l * outF + o] as number);
      res[i * outF + o] = (w[i * outF + o] as number) - scaling * d;
    }
  }
  return {
    loraA: tf.tensor2d(a.data, [inF, r], 'float32'),
    loraB: tf.tensor2d(b.data, [r, outF], 'float32'),
    residualKernel: tf.tensor2d(res, [inF, outF], 'float32'),
  };
}

/** Reads a decomposition's data and frees its tensors. */
function take(t: SvdResult): { u: ArrayLike<number>; s: ArrayLike<number>; v: ArrayLike<number>; k: number } {
  const out = { u: t.u.dataSync(), s: t.s.dataSync(), v: t.v.dataSync() };
  const k = t.s.shape[0];
  tf.dispose([t.u, t.s, t.v]);
  return { ...out, k };
}

/** PiSSA: W = V·S·Uhᵀ (PEFT's [out, in]); A = √(Sᵣ/scaling)·Uhᵣ, B = Vᵣ·√(Sᵣ/scaling); residual W − scaling·B·A. */
function pissaInit(
  kernel: tf.Tensor2D,
  r: number,
  scaling: number,
  niter: number | null,
  seed?: number,
): DenseLoraInit {
  const [inF, outF] = kernel.shape;
  if (!(scaling > 0)) {
    throw new LoraConfigError(
      `PiSSA splits √(S/scaling) between A and B, so scaling (loraAlpha / r) must be > 0, but got ${scaling}; ` +
        'set loraAlpha to a positive number.',
      { field: 'loraAlpha' },
    );
  }
  let inVecs: ArrayLike<number>; // [in, k] columns: PEFT's Uhᵀ
  let outVecs: ArrayLike<number>; // [out, k] columns: PEFT's V
  let sv: ArrayLike<number>;
  let k: number;
  if (niter === null) {
    ({ u: inVecs, v: outVecs, s: sv, k } = take(svd(kernel)));
  } else {
    // torch.svd_lowrank(W) on PEFT's W [out, in]: left vectors live in out-space, right in in-space.
    const w = tf.transpose(kernel);
    try {
      ({ u: outVecs, v: inVecs, s: sv, k } = take(svdLowRank(w, r, niter, seed)));
    } finally {
      w.dispose();
    }
  }
  const a = new Float32Array(inF * r);
  const b = new Float32Array(r * outF);
  for (let l = 0; l < r; l++) {
    const root = Math.sqrt((sv[l] as number) / scaling);
    for (let i = 0; i < inF; i++) a[i * r + l] = (inVecs[i * k + l] as number) * root;
    for (let o = 0; o < outF; o++) b[l * outF + o] = (outVecs[o * k + l] as number) * root;
  }
  return withResidual(kernel, { rows: inF, cols: r, data: a }, { rows: r, cols: outF, data: b }, scaling);
}

/** OLoRA: W = Q·R (PEFT's [out, in]); B = Q[:, :r], A = R[:r]; residual W − scaling·B·A. */
function oloraInit(kernel: tf.Tensor2D, r: number, scaling: number): DenseLoraInit {
  const [inF, outF] = kernel.shape;
  const w = tf.transpose(kernel);
  let q: ArrayLike<number>; // [out, r]
  let rr: ArrayLike<number>; // [r, in]
  try {
    const qr = householderQr(w, r);
    q = qr.q.dataSync();
    rr = qr.r.dataSync();
    tf.dispose([qr.q, qr.r]);
  } finally {
    w.dispose();
  }
  const a = new Float32Array(inF * r); // Rᵣᵀ
  const b = new Float32Array(r * outF); // Qᵣᵀ
  for (let l = 0; l < r; l++) {
    for (let i = 0; i < inF; i++) a[i * r + l] = rr[l * inF + i] as number;
    for (let o = 0; o < outF; o++) b[l * outF + o] = q[o * r + l] as number;
  }
  return withResidual(kernel, { rows: inF, cols: r, data: a }, { rows: r, cols: outF, data: b }, scaling);
}

/** Parses `'pissa'` (null: exact SVD) or `'pissa_niter_K'` (K); anything else is a config error. */
function pissaIterations(mode: string): number | null {
  if (mode === 'pissa') return null;
  const match = /^pissa_niter_(\d+)$/.exec(mode);
  if (!match) {
    throw new LoraConfigError(
      `init_lora_weights should be 'pissa' or 'pissa_niter_[number of iters]' with a non-negative integer, ` +
        `but got '${mode}'; use e.g. 'pissa_niter_4'.`,
      { field: 'initLoraWeights' },
    );
  }
  return Number(match[1]);
}

/**
 * Initial LoRA factors for one Dense layer, following PEFT's `LoraLayer.update_layer` for `nn.Linear`.
 * `kernel` is the tfjs kernel W [in, out] (PEFT's weight is Wᵀ); returns A [in, r], B [r, out] and, for
 * PiSSA and OLoRA, the residual kernel W − scaling·A·B that replaces W so the adapted layer starts out
 * computing exactly what the base layer did. `scaling` is loraAlpha / r (or / √r with rsLoRA).
 * Leaves no tensors behind besides those returned; `kernel` is not modified or disposed.
 */
export function initDenseLora(
  kernel: tf.Tensor2D,
  r: number,
  scaling: number,
  mode: InitLoraWeights,
  options: InitDenseLoraOptions = {},
): DenseLoraInit {
  if (kernel.rank !== 2) {
    throw new ShapeMismatchError(
      `initDenseLora expects a Dense kernel of rank 2 ([in, out]), but got shape [${kernel.shape.join(', ')}].`,
    );
  }
  const [inF, outF] = kernel.shape;
  if (!Number.isInteger(r) || r <= 0) {
    throw new LoraConfigError(`r should be a positive integer, but got ${r}; set r to e.g. 8.`, { field: 'r' });
  }
  if (!Number.isFinite(scaling)) {
    throw new LoraConfigError(
      `scaling (loraAlpha / r) should be a finite number, but got ${scaling}; check loraAlpha.`,
      { field: 'loraAlpha' },
    );
  }
  const { seed } = options;
  if (mode === true || mode === false) {
    const loraA = kaimingUniform([inF, r], inF, streamSeed(seed, 'lora_A')) as tf.Tensor2D;
    // false: PEFT skips reset_lora_parameters, so lora_B keeps nn.Linear(r, out)'s init (fan-in r).
    const loraB = mode ? tf.zeros([r, outF], 'float32') : kaimingUniform([r, outF], r, streamSeed(seed, 'lora_B'));
    return { loraA, loraB: loraB as tf.Tensor2D };
  }
  if (typeof mode === 'string') {
    // Same matching as PEFT: 'pissa…' is case-sensitive, 'olora' and 'gaussian' are not.
    if (mode.startsWith('pissa')) {
      const niter = pissaIterations(mode);
      checkRankFits(r, inF, outF, mode);
      return pissaInit(kernel, r, scaling, niter, streamSeed(seed, 'svd_lowrank'));
    }
    if (mode.toLowerCase() === 'olora') {
      checkRankFits(r, inF, outF, mode);
      return oloraInit(kernel, r, scaling);
    }
    if (mode.toLowerCase() === 'gaussian') {
      return {
        loraA: tf.randomNormal([inF, r], 0, 1 / r, 'float32', streamSeed(seed, 'lora_A')),
        loraB: tf.zeros([r, outF], 'float32'),
      };
    }
  }
  throw new LoraConfigError(
    `Unknown init_lora_weights ${JSON.stringify(mode)} for a Dense layer; expected true, false, 'gaussian', ` +
      `'pissa', 'pissa_niter_[number of iters]' or 'olora'.`,
    { field: 'initLoraWeights' },
  );
}
