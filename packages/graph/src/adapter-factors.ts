// An adapter's factors on a GraphModel: one pair of tf.Variables per adapted node, named
// `<prefix>/<module path>/lora_A.<adapter>` (so core's LoRA+ tells A from B).
import * as tf from '@tensorflow/tfjs-core';
import type { GraphModel } from '@tensorflow/tfjs-converter';
import { alphaFor, rankFor, scalingFor, type LoraConfig } from '@tfjs-lora/core';
import { initFactors } from './factors.js';
import type { GraphTarget } from './targets.js';

/** One adapted node's factors for one adapter. */
export interface GraphFactors {
  /** A, tfjs layout (see `factors.ts`). */
  readonly loraA: tf.Variable;
  /** B, tfjs layout. */
  readonly loraB: tf.Variable;
  /** alpha / r (or alpha / √r with rsLoRA). */
  readonly scaling: number;
}

/** Variables holding `a` and `b` (which are disposed), not trainable until the adapter is active. */
export function factorVariables(
  prefix: string,
  adapter: string,
  path: string,
  a: tf.Tensor,
  b: tf.Tensor,
  scaling: number,
): GraphFactors {
  const loraA = tf.variable(a, false, `${prefix}/${path}/lora_A.${adapter}`);
  const loraB = tf.variable(b, false, `${prefix}/${path}/lora_B.${adapter}`);
  tf.dispose([a, b]);
  return { loraA, loraB, scaling };
}

/** Fresh factors for `targets` as `config` initialises them (per node: rank and alpha patterns, seed + index). */
export function initAdapterFactors(
  model: GraphModel,
  targets: readonly GraphTarget[],
  config: LoraConfig,
  adapter: string,
  prefix: string,
  seed?: number,
): Map<string, GraphFactors> {
  const factors = new Map<string, GraphFactors>();
  for (const [i, t] of targets.entries()) {
    const r = rankFor(config, t.path);
    const scaling = scalingFor(r, alphaFor(config, t.path), config.useRslora);
    const init = initFactors(
      t,
      model.weights[t.weight]![0]!,
      r,
      scaling,
      config.initLoraWeights,
      seed === undefined ? undefined : seed + i,
    );
    factors.set(t.path, factorVariables(prefix, adapter, t.path, init.loraA, init.loraB, scaling));
  }
  return factors;
}
