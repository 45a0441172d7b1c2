// The LoRA layer's forward pass: y = act(base(x) + Σ term(adapter)) over the live adapters. This is the one
// place that chooses between a fused single-adapter path and composed ops:
//   1. Exactly one live adapter: its variant's `fusedForward` — for plain LoRA the layer kind's
//      `fusedForward` (a backend's fused `loraMatMul`, hand-written gradients such as `loraLinear` /
//      `loraConv` that skip the frozen kernel's gradient, or an exact rewrite chosen for cost), for DoRA the
//      kind's fused DoRA forward (`doraLinear`) when there is no LoRA dropout. A kind returns null where its
//      fused form does not apply (e.g. the kernel trains, an unsupported geometry).
//   2. Otherwise (several live adapters, or null above): base(x) once, then each adapter's variant adds its
//      term from tfjs ops (autodiff).
// LoRA dropout drops the LoRA branch's input only (PEFT), and only where the kind's inputs are features
// (`inputDropout`; not Embedding ids). The mask is drawn once per adapter and used by whichever path runs.
import * as tf from '@tensorflow/tfjs-core';
import type { Layer, LayerKind } from './layer-kind.js';
import type { AdapterWeights } from './lora-layer-state.js';
import type { LoraVariant, VariantTarget } from './lora-variant.js';

/** One live adapter of a LoRA layer, with its variant. */
export interface LiveAdapter extends VariantTarget {
  /** The adapter's variant (plain LoRA or DoRA). */
  readonly variant: LoraVariant;
}

/** The pre-activation output of a LoRA layer with the given live adapters. */
function preActivation(layer: Layer, kind: LayerKind, live: LiveAdapter[], x: tf.Tensor, training: boolean): tf.Tensor {
  const loraInputs = live.map(({ weights }) => loraInputOf(kind, weights, x, training));
  if (live.length === 1) {
    const [only] = live as [LiveAdapter];
    const fused = only.variant.fusedForward(only, x, loraInputs[0] === x ? undefined : loraInputs[0]);
    if (fused) return fused;
  }
  const base = kind.baseForward(layer, x);
  let y = base;
  live.forEach((a, i) => {
    const loraInput = loraInputs[i]!;
    const low = kind.loraForward(layer, loraInput, a.weights.loraA.read(), a.weights.loraB.read());
    y = a.variant.forward(a, { x, loraInput, base, y, low });
  });
  return y;
}

/** dropout(x) while training with LoRA dropout on a kind with feature inputs; otherwise x itself. */
function loraInputOf(kind: LayerKind, w: AdapterWeights, x: tf.Tensor, training: boolean): tf.Tensor {
  return training && w.spec.loraDropout > 0 && kind.inputDropout ? tf.dropout(x, w.spec.loraDropout) : x;
}

/**
 * The output of a LoRA layer: `act(base(x) + Σ term)` over `live` (empty: the base layer alone), choosing
 * the fused single-adapter path or composed ops as described at the top of this file.
 */
export function loraLayerForward(
  layer: Layer,
  kind: LayerKind,
  live: LiveAdapter[],
  x: tf.Tensor,
  training: boolean,
): tf.Tensor {
  return tf.tidy(() => kind.activate(layer, preActivation(layer, kind, live, x, training)));
}
