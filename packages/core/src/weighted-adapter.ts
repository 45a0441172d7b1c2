import * as tf from '@tensorflow/tfjs-core';
import { AdapterStateError, LoraConfigError } from './errors/index.js';
import type { LoraConfig, LoraConfigInput } from './config.js';
import type { LoraLayer } from './lora-layer.js';
import { svd, svdAsync, type SvdResult } from './svd.js';

/** How {@link LoraModel.addWeightedAdapter} combines adapters (PEFT's `combination_type`). */
export type Combination = 'linear' | 'cat' | 'svd';

/**
 * The combined factors for one layer, in tfjs layout, for an adapter whose scaling is 1 (PEFT sets
 * lora_alpha = r for the new adapter):
 * - linear: A = Σ √(wᵢsᵢ)·Aᵢ, B = Σ √(wᵢsᵢ)·Bᵢ (all ranks equal; ΔW is NOT Σ wᵢΔWᵢ, as in PEFT);
 * - cat: A = [w₁s₁A₁ | w₂s₂A₂ | …], B = [B₁; B₂; …], rank Σ rᵢ, so ΔW = Σ wᵢsᵢAᵢBᵢ exactly;
 * - svd: the best rank-`rank` approximation of Σ wᵢ·ΔWᵢ (truncated SVD).
 */
export function combineFactors(
  layer: LoraLayer,
  adapters: readonly string[],
  weights: readonly number[],
  combination: Combination,
  rank: number,
): { loraA: tf.Tensor; loraB: tf.Tensor } {
  const present = adapters.map((a, i) => ({ a, w: weights[i] })).filter(({ a }) => layer.adapterNames.includes(a));
  return tf.tidy(() => {
    const shapes = layer.kind.factorShapes(layer.layer, rank);
    if (present.length === 0) return { loraA: tf.zeros(shapes.loraA), loraB: tf.zeros(shapes.loraB) };
    const axisA = shapes.loraA.length - 1;
    if (combination === 'linear') {
      let a: tf.Tensor | null = null;
      let b: tf.Tensor | null = null;
      for (const { a: name, w } of present) {
        const vars = layer.weightsOf(name);
        const k = Math.sqrt(w * vars.scaling);
        a = a ? tf.add(a, tf.mul(vars.loraA.read(), k)) : tf.mul(vars.loraA.read(), k);
        b = b ? tf.add(b, tf.mul(vars.loraB.read(), k)) : tf.mul(vars.loraB.read(), k);
      }
      return { loraA: a!, loraB: b! };
    }
    if (combination === 'cat') {
      const as = present.map(({ a: name, w }) =>
        tf.mul(layer.weightsOf(name).loraA.read(), w * layer.weightsOf(name).scaling),
      );
      const bs = present.map(({ a: name }) => layer.weightsOf(name).loraB.read());
      const a = tf.concat(as, axisA);
      const b = tf.concat(bs, 0);
      // Layers where some adapters are absent get zero-padded up to the common rank.
      const padA = rank - a.shape[axisA];
      return {
        loraA: padA > 0 ? tf.concat([a, tf.zeros([...a.shape.slice(0, -1), padA])], axisA) : a,
        loraB: padA > 0 ? tf.concat([b, tf.zeros([padA, ...b.shape.slice(1)])], 0) : b,
      };
    }
    const delta = svdDelta(layer, present);
    return svdFactors(svd(delta), rank);
  });
}

/** The weighted sum Σ wᵢ·ΔWᵢ the 'svd' combination decomposes (Dense layers only). */
function svdDelta(layer: LoraLayer, present: readonly { a: string; w: number }[]): tf.Tensor2D {
  if (layer.layer.getClassName() !== 'Dense') {
    throw new LoraConfigError(
      `The 'svd' combination is implemented for Dense layers; '${layer.name}' is ${layer.layer.getClassName()}. Use 'cat' or 'linear'.`,
      { field: 'combination' },
    );
  }
  return tf.tidy(() => {
    let delta: tf.Tensor | null = null;
    for (const { a: name, w } of present) {
      const d = tf.mul(layer.deltaWeight(name), w);
      delta = delta ? tf.add(delta, d) : d;
    }
    return delta as tf.Tensor2D;
  });
}

/** Rank-`rank` factors A = U_k, B = diag(s_k)·V_kᵀ of a decomposition, zero-padded when k < rank (call in a tidy). */
function svdFactors({ u, s, v }: SvdResult, rank: number): { loraA: tf.Tensor; loraB: tf.Tensor } {
  const k = Math.min(rank, s.shape[0]);
  let a: tf.Tensor = tf.slice(u, [0, 0], [-1, k]);
  let b: tf.Tensor = tf.mul(tf.transpose(tf.slice(v, [0, 0], [-1, k])), tf.expandDims(tf.slice(s, [0], [k]), 1));
  if (k < rank) {
    a = tf.concat([a, tf.zeros([a.shape[0] as number, rank - k])], 1);
    b = tf.concat([b, tf.zeros([rank - k, b.shape[1] as number])], 0);
  }
  return { loraA: a, loraB: b };
}

/**
 * {@link combineFactors} that reads asynchronously: 'svd' reads Σ wᵢ·ΔWᵢ with `await data()` (so it runs
 * on GPU backends); 'linear' and 'cat' read nothing and are combineFactors itself.
 */
export async function combineFactorsAsync(
  layer: LoraLayer,
  adapters: readonly string[],
  weights: readonly number[],
  combination: Combination,
  rank: number,
): Promise<{ loraA: tf.Tensor; loraB: tf.Tensor }> {
  const present = adapters.map((a, i) => ({ a, w: weights[i] })).filter(({ a }) => layer.adapterNames.includes(a));
  if (combination !== 'svd' || present.length === 0) return combineFactors(layer, adapters, weights, combination, rank);
  const delta = svdDelta(layer, present);
  let parts: SvdResult;
  try {
    parts = await svdAsync(delta);
  } finally {
    delta.dispose();
  }
  const out = tf.tidy(() => svdFactors(parts, rank));
  tf.dispose([parts.u, parts.s, parts.v]);
  return out;
}

/** Validates the arguments of addWeightedAdapter and returns the new adapter's rank. */
export function weightedRank(
  ranks: Map<string, number>,
  adapters: readonly string[],
  weights: readonly number[],
  combination: Combination,
  svdRank?: number,
): number {
  if (adapters.length === 0 || adapters.length !== weights.length) {
    throw new LoraConfigError(
      `addWeightedAdapter needs one weight per adapter; found ${adapters.length} adapters and ${weights.length} weights.`,
      { field: 'weights' },
    );
  }
  for (const a of adapters)
    if (!ranks.has(a))
      throw new AdapterStateError(`No adapter '${a}'; adapters: ${[...ranks.keys()].join(', ')}.`, { adapter: a });
  if (weights.some((w) => !Number.isFinite(w)))
    throw new LoraConfigError(`Weights must be finite numbers; found ${JSON.stringify(weights)}.`, {
      field: 'weights',
    });
  const rs = adapters.map((a) => ranks.get(a)!);
  if (combination === 'linear') {
    if (new Set(rs).size > 1) {
      throw new LoraConfigError(
        `The 'linear' combination needs adapters of equal rank; found ranks ${rs.join(', ')}. Use 'cat' or 'svd'.`,
        { field: 'combination' },
      );
    }
    if (weights.some((w) => w < 0)) {
      throw new LoraConfigError(
        `The 'linear' combination takes √(weight·scaling), so weights must be ≥ 0; found ${JSON.stringify(weights)}. Use 'cat' or 'svd' for negative weights.`,
        { field: 'weights' },
      );
    }
    return rs[0];
  }
  if (combination === 'cat') return rs.reduce((s, r) => s + r, 0);
  if (combination === 'svd') return svdRank ?? Math.max(...rs);
  throw new LoraConfigError(`Unknown combination ${JSON.stringify(combination)}; expected 'linear', 'cat' or 'svd'.`, {
    field: 'combination',
  });
}

/**
 * Validates addWeightedAdapter's arguments and returns the new adapter's rank and config (PEFT's rules:
 * the first adapter's config with r = alpha = the combined rank, targets = every layer holding any of the
 * adapters, no patterns, no initialisation since the factors are written afterwards).
 */
export function planWeightedAdapter(
  layers: readonly { path: string; layer: LoraLayer }[],
  adapters: readonly string[],
  weights: readonly number[],
  combination: Combination,
  configOf: (adapter: string) => LoraConfig,
  svdRank?: number,
): { rank: number; config: LoraConfigInput } {
  adapters.forEach((a) => configOf(a));
  if (adapters.length === 0 || adapters.length !== weights.length) {
    throw new LoraConfigError(
      `addWeightedAdapter needs one weight per adapter; found ${adapters.length} adapters and ${weights.length} weights.`,
      { field: 'weights' },
    );
  }
  const holding = layers.filter(({ layer }) => adapters.some((a) => layer.adapterNames.includes(a)));
  let rank = 0;
  for (const { layer } of holding) {
    const ranks = new Map(layer.adapterNames.map((a) => [a, layer.weightsOf(a).spec.r]));
    const present = adapters.filter((a) => ranks.has(a));
    rank = Math.max(
      rank,
      weightedRank(
        ranks,
        present,
        present.map((a) => weights[adapters.indexOf(a)]),
        combination,
        svdRank,
      ),
    );
  }
  if (adapters.some((a) => configOf(a).useDora)) {
    throw new LoraConfigError(
      `addWeightedAdapter does not combine DoRA adapters (as in PEFT); found useDora in ${adapters.join(', ')}.`,
      { field: 'useDora' },
    );
  }
  const { extra, ...first } = configOf(adapters[0]);
  return {
    rank,
    config: {
      ...first,
      extra: { ...extra },
      r: rank,
      loraAlpha: rank,
      targetModules: holding.map((l) => l.path),
      rankPattern: {},
      alphaPattern: {},
      layersToTransform: null,
      layersPattern: null,
      initLoraWeights: false,
    },
  };
}

/** {@link writeCombinedFactors} through {@link combineFactorsAsync} (no synchronous read). */
export async function writeCombinedFactorsAsync(
  layers: readonly LoraLayer[],
  adapters: readonly string[],
  weights: readonly number[],
  combination: Combination,
  rank: number,
  name: string,
): Promise<void> {
  for (const layer of layers) {
    if (!layer.adapterNames.includes(name)) continue;
    const combined = await combineFactorsAsync(layer, adapters, weights, combination, rank);
    const vars = layer.weightsOf(name);
    vars.loraA.write(combined.loraA);
    vars.loraB.write(combined.loraB);
    tf.dispose([combined.loraA, combined.loraB]);
  }
}

/** Writes the combined factors into adapter `name` of every layer that has it. */
export function writeCombinedFactors(
  layers: readonly LoraLayer[],
  adapters: readonly string[],
  weights: readonly number[],
  combination: Combination,
  rank: number,
  name: string,
): void {
  for (const layer of layers) {
    if (!layer.adapterNames.includes(name)) continue;
    const combined = combineFactors(layer, adapters, weights, combination, rank);
    const vars = layer.weightsOf(name);
    vars.loraA.write(combined.loraA);
    vars.loraB.write(combined.loraB);
    tf.dispose([combined.loraA, combined.loraB]);
  }
}

/** What {@link addWeightedAdapter} works on: a LoraModel (named by its members, so this file needs no import of it). */
export interface WeightedAdapterTarget {
  /** Every LoRA layer with its dotted path. */
  loraLayers(): { path: string; layer: LoraLayer }[];
  /** The config of an adapter. */
  peftConfig(name: string): LoraConfig;
  /** Adds an adapter (inactive). */
  addAdapter(name: string, config: LoraConfigInput): void;
}

/** PEFT's `add_weighted_adapter` on `lm`: plans the new adapter, adds it, then writes its combined factors. */
export function addWeightedAdapter(
  lm: WeightedAdapterTarget,
  adapters: readonly string[],
  weights: readonly number[],
  name: string,
  combination: Combination,
  svdRank?: number,
): void {
  const configOf = (a: string): LoraConfig => lm.peftConfig(a);
  const { rank, config } = planWeightedAdapter(lm.loraLayers(), adapters, weights, combination, configOf, svdRank);
  lm.addAdapter(name, config);
  const layers = lm.loraLayers().map((l) => l.layer);
  writeCombinedFactors(layers, adapters, weights, combination, rank, name);
}

/** {@link addWeightedAdapter} without synchronous reads (the 'svd' combination reads with `await data()`). */
export async function addWeightedAdapterAsync(
  lm: WeightedAdapterTarget,
  adapters: readonly string[],
  weights: readonly number[],
  name: string,
  combination: Combination,
  svdRank?: number,
): Promise<void> {
  const configOf = (a: string): LoraConfig => lm.peftConfig(a);
  const { rank, config } = planWeightedAdapter(lm.loraLayers(), adapters, weights, combination, configOf, svdRank);
  lm.addAdapter(name, config);
  const layers = lm.loraLayers().map((l) => l.layer);
  await writeCombinedFactorsAsync(layers, adapters, weights, combination, rank, name);
}
