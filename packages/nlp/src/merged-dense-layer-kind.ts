import * as tf from '@tensorflow/tfjs-core';
import { LoraError, type FactorInit, type Layer, type LayerKind } from '@tfjs-lora/core';
import { dotLast, initDenseLora, requireWeight, weightByName } from '@tfjs-lora/core/math';
import { MergedDense } from './merged-dense.js';

/** The MergedDense geometry: enabled part indices, part width, input width. */
function geometry(layer: Layer): { enabled: number[]; parts: number; width: number; inF: number } {
  if (!(layer instanceof MergedDense)) {
    throw new LoraError(
      `mergedDenseLayerKind handles MergedDense layers; found ${layer.getClassName()} '${layer.name}'. Register this layer kind for MergedDense only.`,
    );
  }
  const enabled = layer.enableLora.flatMap((on, i) => (on ? [i] : []));
  if (enabled.length === 0) {
    throw new LoraError(
      `MergedDense '${layer.name}' has no part enabled for LoRA (enableLora is all false); expected at least one true. ` +
        `Enable a part, or leave '${layer.name}' out of targetModules.`,
    );
  }
  const inF = requireWeight(layer, 'kernel').shape[0] as number;
  return { enabled, parts: layer.enableLora.length, width: layer.partWidth, inF };
}

/** Places per-part blocks [..., k, width] into the full output [..., parts·width], zeros for disabled parts. */
function scatterParts(blocks: tf.Tensor, enabled: number[], parts: number, width: number): tf.Tensor {
  const lead = blocks.shape.slice(0, -2);
  const pieces: tf.Tensor[] = [];
  const slots = tf.unstack(blocks, blocks.rank - 2);
  for (let p = 0; p < parts; p++) {
    const j = enabled.indexOf(p);
    pieces.push(j >= 0 ? slots[j]! : tf.zeros([...lead, width]));
  }
  return tf.concat(pieces, -1);
}

/**
 * LoRA for {@link MergedDense} with loralib's `MergedLinear` semantics: each enabled part j of the output
 * gets its own update ΔW_j = scaling · A_j · B_j ([in, width]); disabled parts get none. tfjs layout: A is
 * [in, k·r] (the k enabled parts' A_j side by side), B is [k, r, width]. loralib's tensors: `lora_A`
 * [k·r, in] (Aᵀ) and `lora_B` [k·width, r] (the B_jᵀ stacked), the layout of its grouped conv1d.
 */
export const mergedDenseLayerKind: LayerKind = {
  name: 'merged-dense',
  layerClasses: ['MergedDense'],
  isLinear: true,
  peftNames: { loraA: 'lora_A', loraB: 'lora_B' },
  inputDropout: true,
  check: (layer) => void geometry(layer),
  kernel: (layer) => requireWeight(layer, 'kernel'),
  bias: (layer) => weightByName(layer, 'bias'),
  factorShapes(layer, r) {
    const { enabled, width, inF } = geometry(layer);
    return { loraA: [inF, enabled.length * r], loraB: [enabled.length, r, width] };
  },
  initFactors(layer, r, scaling, mode, seed): FactorInit {
    const { enabled, width } = geometry(layer);
    const kernel = requireWeight(layer, 'kernel').read() as tf.Tensor2D;
    return tf.tidy(() => {
      const inits = enabled.map((p, j) =>
        initDenseLora(tf.slice(kernel, [0, p * width], [-1, width]) as tf.Tensor2D, r, scaling, mode, {
          seed: seed === undefined ? undefined : seed + 7919 * j,
        }),
      );
      const loraA = tf.concat(
        inits.map((i) => i.loraA),
        1,
      );
      const loraB = tf.stack(inits.map((i) => i.loraB));
      if (!inits.some((i) => i.residualKernel)) return { loraA, loraB };
      const columns = tf.split(kernel, geometry(layer).parts, 1);
      enabled.forEach((p, j) => (columns[p] = inits[j]!.residualKernel ?? columns[p]!));
      return { loraA, loraB, residualKernel: tf.concat(columns, 1) };
    });
  },
  baseForward(layer, x) {
    const y = dotLast(x, requireWeight(layer, 'kernel').read());
    const b = weightByName(layer, 'bias');
    return b ? tf.add(y, b.read()) : y;
  },
  loraForward(layer, x, loraA, loraB) {
    const { enabled, parts, width } = geometry(layer);
    const [k, r] = loraB.shape as number[];
    const lead = x.shape.slice(0, -1);
    const xa = tf.reshape(dotLast(x, loraA), [-1, k, r]); // [n, k, r]
    const low = tf.matMul(tf.transpose(xa, [1, 0, 2]), loraB as tf.Tensor3D); // [k, n, width]
    const blocks = tf.transpose(low, [1, 0, 2]); // [n, k, width]
    return tf.reshape(scatterParts(blocks, enabled, parts, width), [...lead, parts * width]);
  },
  deltaWeight(layer, loraA, loraB) {
    const { enabled, parts, width, inF } = geometry(layer);
    const [k, r] = loraB.shape as number[];
    const a = tf.transpose(tf.reshape(loraA, [inF, k, r]), [1, 0, 2]); // [k, in, r]
    const blocks = tf.transpose(tf.matMul(a as tf.Tensor3D, loraB as tf.Tensor3D), [1, 0, 2]); // [in, k, width]
    return scatterParts(blocks, enabled, parts, width);
  },
  activate: (_layer, y) => y,
  toPeft(_layer, factor, t) {
    if (factor === 'loraA') return tf.transpose(t);
    const [k, r, width] = t.shape as number[];
    return tf.reshape(tf.transpose(t, [0, 2, 1]), [k * width, r]);
  },
  fromPeft(layer, factor, t) {
    if (factor === 'loraA') return tf.transpose(t);
    const { enabled, width } = geometry(layer);
    const r = t.shape[1] as number;
    return tf.transpose(tf.reshape(t, [enabled.length, width, r]), [0, 2, 1]);
  },
};
