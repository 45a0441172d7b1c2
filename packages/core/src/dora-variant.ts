// DoRA (weight-decomposed LoRA, PEFT's `DoraLinearVariant` / `DoraConv2dVariant` / `DoraEmbeddingVariant`)
// as a strategy object. A layer kind that supports DoRA builds one with doraVariant(), giving the norm of
// its kernel per output unit, optionally a fused forward, and PEFT's layout of the magnitude vector.
import * as tf from '@tensorflow/tfjs-core';
import { AdapterStateError } from './errors/index.js';
import type { DoraFusedArgs, DoraVariant, Layer, LayerKind } from './layer-kind-types.js';
import { scaledDelta } from './lora-variant.js';
import { doraMergedWeight, scale, stopGradient } from './math.js';

export type { DoraFusedArgs, DoraVariant } from './layer-kind-types.js';

/** PEFT's name of the magnitude variable (`lora_magnitude_vector`). */
export const MAGNITUDE_VARIABLE = 'lora_magnitude_vector';

/** What a layer kind tells {@link doraVariant}. */
export interface DoraVariantOptions {
  /** The norm of a kernel-shaped weight per output unit ([out]). */
  weightNorm(layer: Layer, weight: tf.Tensor): tf.Tensor1D;
  /**
   * `(m/‖W + s·ΔW‖)·(base(x) − bias + s·B(A(x))) + bias` with the norm detached in one call (e.g. with
   * hand-written gradients); null when it does not apply. Never called with LoRA dropout.
   */
  fusedForward?(layer: Layer, args: DoraFusedArgs): tf.Tensor | null;
  /**
   * PEFT's shape of the magnitude for `out` output units: `[out]` (the default: Linear, Embedding);
   * `[1, out, 1, 1]` for Conv2d, `[1, out, 1]` for Conv1d.
   */
  peftMagnitudeShape?(layer: Layer, out: number): number[];
}

const outUnits = (layer: Layer, kind: LayerKind): number => kind.kernel(layer).shape.at(-1) as number;

/**
 * Builds a layer kind's DoRA variant (PEFT semantics): the forward rescales the base term by
 * m/‖W + s·ΔW‖ with the norm detached, merging gives (m/‖W + s·ΔW‖)·(W + s·ΔW), and m starts as
 * ‖W + s·ΔW‖ of the initial factors.
 */
export function doraVariant(options: DoraVariantOptions): DoraVariant {
  const peftShape = (layer: Layer, out: number): number[] => options.peftMagnitudeShape?.(layer, out) ?? [out];
  const norm = (layer: Layer, weight: tf.Tensor): tf.Tensor1D => options.weightNorm(layer, weight);
  return {
    name: 'dora',
    weightNorm: norm,
    fusedForward({ layer, weights: w }, x, loraInput) {
      if (loraInput || !options.fusedForward || !w.magnitude) return null;
      const factors = { loraA: w.loraA.read(), loraB: w.loraB.read(), magnitude: w.magnitude.read() };
      return options.fusedForward(layer, { x, ...factors, scaling: w.scaling });
    },
    forward(t, { x, loraInput, base, y, low }) {
      const { layer, kind, weights: w } = t;
      const combined = tf.add(kind.kernel(layer).read(), scaledDelta(t));
      const magScale = tf.div(w.magnitude!.read(), stopGradient(norm(layer, combined)));
      const bias = kind.bias(layer);
      const baseIn = loraInput !== x ? kind.baseForward(layer, loraInput) : base;
      const baseNoBias = bias ? tf.sub(baseIn, bias.read()) : baseIn;
      return tf.add(y, tf.add(tf.mul(tf.sub(magScale, 1), baseNoBias), tf.mul(magScale, scale(low, w.scaling))));
    },
    extraVariables: (layer, kind) => ({ [MAGNITUDE_VARIABLE]: [outUnits(layer, kind)] }),
    initialise(t) {
      tf.tidy(() => {
        t.weights.magnitude!.write(norm(t.layer, tf.add(t.kind.kernel(t.layer).read(), scaledDelta(t))));
      });
    },
    merge: (t, weight) =>
      doraMergedWeight(weight, scaledDelta(t), t.weights.magnitude!.read(), (v) => norm(t.layer, v)),
    unmerge(t) {
      throw new AdapterStateError(
        `Layer '${t.where}': DoRA adapter '${t.adapter}' was merged before the model was saved and cannot be unmerged.`,
      );
    },
    magnitudeToPeft: (layer, magnitude) => tf.reshape(magnitude, peftShape(layer, magnitude.size)),
    magnitudeFromPeft: (_layer, magnitude) => tf.reshape(magnitude, [magnitude.size]),
    peftMagnitudeShape: (layer, kind) => peftShape(layer, outUnits(layer, kind)),
  };
}
