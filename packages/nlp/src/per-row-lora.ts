import * as tf from '@tensorflow/tfjs-core';
import { activeKernels, composedMultiAdapterMatMul, LoraError, type Layer } from '@tfjs-lora/core';
import { toIds } from './embedding-layer-kind.js';

/** Stacked factors of k adapters for one layer, rank-padded to a common r, and a row → adapter index. */
export interface PerRowLoraArgs {
  /** The wrapped base layer. */
  layer: Layer;
  /** The layer's input; its first axis is the batch. */
  x: tf.Tensor;
  /** Stacked A factors [k, ...A shape] (tfjs layout of the layer kind, r padded with zeros). */
  loraA: tf.Tensor;
  /** Stacked B factors [k, ...B shape]. */
  loraB: tf.Tensor;
  /** Scaling per adapter [k]. */
  scalings: tf.Tensor1D;
  /** Adapter index per batch row [batch] (int32); -1 = no adapter for that row. */
  rowIndex: tf.Tensor1D;
  /** Composed form: `'auto'` (default: {@link useMaskedForm}), `'masked'` or `'gather'`. A fused backend kernel wins over both. */
  strategy?: PerRowStrategy;
}

/** How the composed per-row product is formed (see {@link denseRows}). */
export type PerRowStrategy = 'auto' | 'masked' | 'gather';

function masked(strategy: PerRowStrategy | undefined, k: number, r: number, inF: number, outF: number): boolean {
  return strategy === 'masked' || (strategy !== 'gather' && useMaskedForm(k, r, inF, outF));
}

/** The per-row LoRA update of one layer kind: row i gets scaling[idx[i]] · B[idx[i]](A[idx[i]](x[i])), zeros where idx is -1. */
export type PerRowLora = (args: PerRowLoraArgs) => tf.Tensor;

/** Index ≥ 0 for gathering, and the per-row scaling (0 for rows without adapter). */
function rowsOf(scalings: tf.Tensor1D, rowIndex: tf.Tensor1D): { idx: tf.Tensor1D; s: tf.Tensor1D } {
  const idx = tf.maximum(rowIndex, tf.scalar(0, 'int32')) as tf.Tensor1D;
  const s = tf.mul(
    tf.gather(scalings, idx),
    tf.cast(tf.greaterEqual(rowIndex, tf.scalar(0, 'int32')), 'float32'),
  ) as tf.Tensor1D;
  return { idx, s };
}

/** One-hot rows [b, k] of adapter indices (tf.oneHot needs k ≥ 2; a layer may hold a single adapter). */
function oneHotRows(idx: tf.Tensor1D, k: number): tf.Tensor2D {
  return tf.cast(tf.equal(tf.expandDims(idx, 1), tf.range(0, k, 1, 'int32')), 'float32') as tf.Tensor2D;
}

/** Broadcasts a per-row vector [b] over a [b, ...] tensor. */
function perRow(s: tf.Tensor1D, rank: number): tf.Tensor {
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
function maskedUp(after: tf.Tensor, idx: tf.Tensor1D, s: tf.Tensor1D, loraB: tf.Tensor): tf.Tensor {
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
 * Dense, without a loop over adapters: with a backend's fused `multiAdapterMatMul` (core's `LoraKernels`),
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
  const { idx, s } = rowsOf(scalings, rowIndex);
  if (masked(strategy, k, r, inF, outF)) {
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

/**
 * Embedding: the stacked A tables [k, num, r] are viewed as one [k·num, r] table and gathered at
 * `idx·num + id` (no per-row copy of a table); then each row's B: the masked form while k·r ≤ dim, else a
 * gather of each row's B and one batched matmul.
 */
export const embeddingRows: PerRowLora = ({ x, loraA, loraB, scalings, rowIndex, strategy }) => {
  const [k, num, r] = loraA.shape as [number, number, number];
  const dim = loraB.shape[2] as number;
  const ids = toIds(x);
  const b = ids.shape[0] as number;
  const { idx, s } = rowsOf(scalings, rowIndex);
  const flatIds = tf.reshape(ids, [b, -1]);
  const offset = tf.add(flatIds, tf.expandDims(tf.mul(idx, tf.scalar(num, 'int32')), 1)); // [b, t]
  const table = tf.reshape(loraA, [k * num, r]) as tf.Tensor2D;
  const after = tf.gather(table as tf.Tensor, offset); // [b, t, r]
  const y = masked(strategy, k, r, 0, dim)
    ? maskedUp(after, idx, s, loraB)
    : tf.mul(tf.matMul(after, tf.gather(loraB, idx)), perRow(s, 3));
  return tf.reshape(y, [...ids.shape, dim]);
};

const registry = new Map<string, PerRowLora>([
  ['dense', denseRows],
  ['embedding', embeddingRows],
]);

/**
 * Registers the per-row math for a layer kind (a `LayerKind` name), for kinds whose factors follow the
 * Dense convention: A's last axis and B's first axis are the rank (they are zero-padded to a common r).
 */
export function registerPerRowLora(kind: string, forward: PerRowLora): void {
  registry.set(kind, forward);
}

/** The per-row math for a layer kind; throws naming the supported kinds. */
export function requirePerRowLora(kind: string, layerName: string): PerRowLora {
  const found = registry.get(kind);
  if (found) return found;
  throw new LoraError(
    `Per-row mixed adapters support the layer kinds ${[...registry.keys()].join(', ')}; layer '${layerName}' is '${kind}'. ` +
      `Run that adapter with setAdapter() instead, or register its per-row math with registerPerRowLora().`,
  );
}
