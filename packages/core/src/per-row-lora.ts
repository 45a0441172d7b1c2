// The per-row LoRA update of a mixed-adapter batch (PEFT's `adapter_names`): row i gets adapter idx[i]'s
// s·B(A(x[i])), zeros where idx is -1. Dense rows use the backend's fused `multiAdapterMatMul` when there is
// one; kinds without per-row math of their own get the composed form (one masked term per adapter).
import * as tf from '@tensorflow/tfjs-core';
import { activeKernels } from './backend.js';
import { composedMultiAdapterMatMul } from './kernels.js';
import type { AdapterWeights, Layer, LayerKind, PerRowLora, PerRowStrategy } from './layer-kind-types.js';

export type { PerRowLora, PerRowLoraArgs, PerRowStrategy } from './layer-kind-types.js';

/** Whether to take the masked form (`strategy`, else {@link useMaskedForm}) for k adapters of rank r on a layer of `inF` inputs and `outF` outputs. */
export function useMaskedRows(
  strategy: PerRowStrategy | undefined,
  k: number,
  r: number,
  inF: number,
  outF: number,
): boolean {
  return strategy === 'masked' || (strategy !== 'gather' && useMaskedForm(k, r, inF, outF));
}

/** Index ≥ 0 for gathering, and the per-row scaling (0 for rows without adapter). */
export function rowScalings(scalings: tf.Tensor1D, rowIndex: tf.Tensor1D): { idx: tf.Tensor1D; s: tf.Tensor1D } {
  const idx = tf.maximum(rowIndex, tf.scalar(0, 'int32')) as tf.Tensor1D;
  const valid = tf.cast(tf.greaterEqual(rowIndex, tf.scalar(0, 'int32')), 'float32');
  return { idx, s: tf.mul(tf.gather(scalings, idx), valid) as tf.Tensor1D };
}

/** One-hot rows [b, k] of adapter indices (tf.oneHot needs k ≥ 2; a layer may hold a single adapter). */
export function oneHotRows(idx: tf.Tensor1D, k: number): tf.Tensor2D {
  return tf.cast(tf.equal(tf.expandDims(idx, 1), tf.range(0, k, 1, 'int32')), 'float32') as tf.Tensor2D;
}

/** Broadcasts a per-row vector [b] over a [b, ...] tensor of rank `rank`. */
export function perRow(s: tf.Tensor1D, rank: number): tf.Tensor {
  return tf.reshape(s, [-1, ...new Array<number>(rank - 1).fill(1)]);
}

/**
 * Whether the masked form is cheaper than gathering per row: it multiplies every token by all k adapters'
 * A side by side ([in, k·r]), so it costs about k·r·(in + out) per token; gathering costs a copy of A and B
 * per row plus small batched matmuls, which backends without fast gathers (wasm) run slowly.
 */
export function useMaskedForm(k: number, r: number, inF: number, outF: number): boolean {
  return k * r <= Math.max(inF, outF);
}

/**
 * The up-projection of the masked form: `after` [b, t, r] (a row's own low-rank activations) is placed in its
 * adapter's slot of [b, t, k·r] (zeros elsewhere, times the row's scaling) and multiplied by all B side by side
 * ([k·r, out]). Exact: the other slots contribute exact zeros.
 */
export function maskedUp(after: tf.Tensor, idx: tf.Tensor1D, s: tf.Tensor1D, loraB: tf.Tensor): tf.Tensor {
  const [k, r, outF] = loraB.shape as [number, number, number];
  const [b, t] = after.shape as [number, number, number];
  const mask = tf.mul(oneHotRows(idx, k), tf.expandDims(s, 1)); // [b, k]
  const slots = tf.mul(tf.reshape(after, [b, t, 1, r]), tf.reshape(mask, [b, 1, k, 1])); // [b, t, k, r]
  const flat = tf.matMul(
    tf.reshape(slots, [b * t, k * r]) as tf.Tensor2D,
    tf.reshape(loraB, [k * r, outF]) as tf.Tensor2D,
  );
  return tf.reshape(flat, [b, t, outF]);
}

/**
 * Dense, without a loop over adapters: with a backend's fused `multiAdapterMatMul` ({@link LoraKernels}),
 * tokens are flattened to rows that repeat their batch row's index. Otherwise, while k·r ≤ max(in, out), the
 * masked form: x·[A_1 … A_k] ([in, k·r]) in one matmul, each row's slot kept ({@link useMaskedForm}), one matmul
 * with [B_1; …; B_k]; beyond that, a gather of each row's A and B and two batched matmuls
 * ([b, t, in]·[b, in, r]·[b, r, out]; core's composed kernel for rank-2 inputs).
 */
export const denseRows: PerRowLora = ({ x, loraA, loraB, scalings, rowIndex, strategy }) => {
  const fused = activeKernels().multiAdapterMatMul;
  const [b, inF] = [x.shape[0] as number, x.shape[x.rank - 1] as number];
  const [k, r, outF] = loraB.shape as [number, number, number];
  const args = { loraA: loraA as tf.Tensor3D, loraB: loraB as tf.Tensor3D, scalings };
  const tokens = x.size / (b * inF);
  const outShape = [...x.shape.slice(0, -1), outF];
  if (fused) {
    const repeated =
      tokens === 1 ? rowIndex : (tf.reshape(tf.tile(tf.expandDims(rowIndex, 1), [1, tokens]), [-1]) as tf.Tensor1D);
    return tf.reshape(fused({ x: tf.reshape(x, [-1, inF]) as tf.Tensor2D, adapterIndex: repeated, ...args }), outShape);
  }
  const { idx, s } = rowScalings(scalings, rowIndex);
  if (useMaskedRows(strategy, k, r, inF, outF)) {
    const side = tf.reshape(tf.transpose(loraA, [1, 0, 2]), [inF, k * r]) as tf.Tensor2D; // [in, k·r]
    const xa = tf.reshape(tf.matMul(tf.reshape(x, [-1, inF]) as tf.Tensor2D, side), [b, tokens, k, r]);
    const own = tf.sum(tf.mul(xa, tf.reshape(oneHotRows(idx, k), [b, 1, k, 1])), 2); // [b, t, r]
    return tf.reshape(maskedUp(own, idx, s, loraB), outShape);
  }
  if (x.rank === 2) return composedMultiAdapterMatMul({ x: x as tf.Tensor2D, adapterIndex: rowIndex, ...args });
  const x3 = tf.reshape(x, [b, tokens, inF]) as tf.Tensor3D;
  const xa = tf.matMul(x3, tf.gather(loraA, idx) as tf.Tensor3D); // [b, t, r]
  const y = tf.mul(tf.matMul(xa, tf.gather(loraB, idx) as tf.Tensor3D), perRow(s, 3)); // [b, t, out]
  return tf.reshape(y, outShape);
};

/** Stacks adapters' factors for a {@link PerRowLora}: A and B zero-padded to the largest rank, scalings [k]. */
export function stackFactors(adapters: readonly AdapterWeights[]): {
  loraA: tf.Tensor;
  loraB: tf.Tensor;
  scalings: tf.Tensor1D;
} {
  const rMax = Math.max(...adapters.map((w) => w.spec.r));
  const pad = (t: tf.Tensor, axis: number, r: number) =>
    r === rMax ? t : tf.pad(t, t.shape.map((_, i) => (i === axis ? [0, rMax - r] : [0, 0])) as [number, number][]);
  return {
    loraA: tf.stack(adapters.map((w) => pad(w.loraA.read(), w.loraA.shape.length - 1, w.spec.r))),
    loraB: tf.stack(adapters.map((w) => pad(w.loraB.read(), 0, w.spec.r))),
    scalings: tf.tensor1d(adapters.map((w) => w.scaling)),
  };
}

/**
 * The per-row update of any layer kind from its own `loraForward`: one term per adapter, each masked to the
 * rows that use it (k LoRA branches over the whole batch; exact). Used where a kind has no per-row math of
 * its own (convolutions, for example).
 */
export function composedRows(
  layer: Layer,
  kind: LayerKind,
  x: tf.Tensor,
  adapters: readonly AdapterWeights[],
  rowIndex: tf.Tensor1D,
): tf.Tensor | null {
  let delta: tf.Tensor | null = null;
  adapters.forEach((w, k) => {
    const low = kind.loraForward(layer, x, w.loraA.read(), w.loraB.read());
    const rows = tf.mul(tf.cast(tf.equal(rowIndex, tf.scalar(k, 'int32')), 'float32'), w.scaling) as tf.Tensor1D;
    const term = tf.mul(low, perRow(rows, low.rank));
    delta = delta ? tf.add(delta, term) : term;
  });
  return delta;
}
