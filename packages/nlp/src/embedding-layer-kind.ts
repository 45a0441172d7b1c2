import * as tf from '@tensorflow/tfjs-core';
import { LoraConfigError, type FactorInit, type InitLoraWeights, type Layer, type LayerKind } from '@tfjs-lora/core';
import {
  doraVariant,
  maskedUp,
  perRow,
  requireWeight,
  rowScalings,
  useMaskedRows,
  type PerRowLora,
} from '@tfjs-lora/core/math';

/** A per-factor seed derived from the user's seed, never 0 (tfjs reads 0 as unseeded). */
function factorSeed(seed: number | undefined, stream: number): number | undefined {
  if (seed === undefined) return undefined;
  let h = (0x811c9dc5 ^ stream) >>> 0;
  for (const ch of `${seed}/embedding`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193);
  return h >>> 0 || 1;
}

/** The embedding table [num, dim] of a tfjs `Embedding` layer. */
function table(layer: Layer): { num: number; dim: number } {
  const [num, dim] = requireWeight(layer, 'embeddings').shape as number[];
  return { num, dim };
}

/** Token ids as int32 (tfjs models feed float32 ids to `Embedding`, which casts them the same way). */
export function toIds(x: tf.Tensor): tf.Tensor {
  return x.dtype === 'int32' ? x : tf.cast(x, 'int32');
}

/**
 * Embedding rows of a mixed-adapter batch: the stacked A tables [k, num, r] are viewed as one [k·num, r] table
 * and gathered at `idx·num + id` (no per-row copy of a table); then each row's B: the masked form while
 * k·r ≤ dim, else a gather of each row's B and one batched matmul.
 */
export const embeddingRows: PerRowLora = ({ x, loraA, loraB, scalings, rowIndex, strategy }) => {
  const [k, num, r] = loraA.shape as [number, number, number];
  const dim = loraB.shape[2] as number;
  const ids = toIds(x);
  const b = ids.shape[0] as number;
  const { idx, s } = rowScalings(scalings, rowIndex);
  const flatIds = tf.reshape(ids, [b, -1]);
  const offset = tf.add(flatIds, tf.expandDims(tf.mul(idx, tf.scalar(num, 'int32')), 1)); // [b, t]
  const table = tf.reshape(loraA, [k * num, r]) as tf.Tensor2D;
  const after = tf.gather(table as tf.Tensor, offset); // [b, t, r]
  const y = useMaskedRows(strategy, k, r, 0, dim)
    ? maskedUp(after, idx, s, loraB)
    : tf.mul(tf.matMul(after, tf.gather(loraB, idx)), perRow(s, 3));
  return tf.reshape(y, [...ids.shape, dim]);
};

/**
 * PEFT's initial Embedding factors in tfjs layout (A [num, r], B [r, dim]). `init_lora_weights=false`:
 * both standard normal (`torch.randn`); any other value: A zeros and B standard normal, as PEFT's
 * `reset_lora_parameters` does for `lora_embedding_A/B` (following loralib's Embedding), so the adapter
 * starts as the identity. PEFT has no PiSSA/OLoRA for embeddings and falls back to this too.
 */
export function initEmbeddingFactors(
  num: number,
  dim: number,
  r: number,
  mode: InitLoraWeights,
  seed?: number,
): FactorInit {
  const normal = (shape: number[], stream: number): tf.Tensor => {
    const s = factorSeed(seed, stream);
    return tf.randomNormal(shape, 0, 1, 'float32', s);
  };
  const loraA = mode === false ? normal([num, r], 1) : tf.zeros([num, r]);
  return { loraA, loraB: normal([r, dim], 2) };
}

/**
 * The LoRA layer kind for tfjs `Embedding` layers with the semantics of PEFT's `lora.Embedding`:
 * `y = W[ids] + scaling · A[ids] · B`, ΔW = scaling · A · B ([num, dim], the table's shape, so merging
 * is exact). Factors in tfjs layout: A [num, r] and B [r, dim]; in PEFT files they are
 * `lora_embedding_A` [r, num] and `lora_embedding_B` [dim, r] (transposes). No LoRA dropout on ids (PEFT
 * creates the dropout module but never applies it to embeddings). DoRA: the magnitude is per embedding
 * dimension ([dim]), the norm taken over the vocabulary axis, as PEFT's `DoraEmbeddingLayer`.
 */
export const embeddingLayerKind: LayerKind = {
  name: 'embedding',
  layerClasses: ['Embedding'],
  isLinear: false,
  peftNames: { loraA: 'lora_embedding_A', loraB: 'lora_embedding_B' },
  inputDropout: false,
  check(layer) {
    if (layer.getConfig()['maskZero'] === true) {
      throw new LoraConfigError(
        `Embedding layer '${layer.name}' has maskZero: true, but the LoRA wrapper does not pass masks on. ` +
          `Expected maskZero: false for an Embedding adapted by LoRA; found true. Build the model with maskZero: false ` +
          `(mask padding in the loss instead), or leave '${layer.name}' out of targetModules.`,
        { field: 'targetModules' },
      );
    }
  },
  kernel: (layer) => requireWeight(layer, 'embeddings'),
  bias: () => null,
  factorShapes(layer, r) {
    const { num, dim } = table(layer);
    return { loraA: [num, r], loraB: [r, dim] };
  },
  initFactors(layer, r, _scaling, mode, seed) {
    const { num, dim } = table(layer);
    return initEmbeddingFactors(num, dim, r, mode, seed);
  },
  baseForward: (layer, x) => tf.gather(requireWeight(layer, 'embeddings').read(), toIds(x)),
  loraForward(_layer, x, loraA, loraB) {
    const after = tf.gather(loraA, toIds(x)); // [..., r]
    const lead = after.shape.slice(0, -1);
    const r = loraA.shape[1] as number;
    const flat = tf.matMul(tf.reshape(after, [-1, r]) as tf.Tensor2D, loraB as tf.Tensor2D);
    return tf.reshape(flat, [...lead, loraB.shape[1] as number]);
  },
  mixedBatchForward: embeddingRows,
  deltaWeight: (_layer, loraA, loraB) => tf.matMul(loraA as tf.Tensor2D, loraB as tf.Tensor2D),
  activate: (_layer, y) => y,
  dora: doraVariant({ weightNorm: (_layer, weight) => tf.norm(weight, 'euclidean', 0) as tf.Tensor1D }),
  toPeft: (_layer, _factor, t) => tf.transpose(t),
  fromPeft: (_layer, _factor, t) => tf.transpose(t),
};
