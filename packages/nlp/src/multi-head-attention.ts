import * as tfl from '@tensorflow/tfjs-layers';
import { LoraConfigError } from '@tfjs-lora/core';
import { ScaledDotProductAttention } from './attention-layer.js';
import { MergedDense } from './merged-dense.js';

/**
 * How queries, keys and values are projected: three Dense layers (`query`, `key`, `value`, as BERT), one
 * fused Dense `qkv` of width 3·width (GPT-2's `c_attn`; LoRA on it adapts all three with one rank-r update,
 * as PEFT does), or one fused {@link MergedDense} `qkv` whose LoRA adapts only the enabled parts
 * (loralib's `MergedLinear`, e.g. `{ enableLora: [true, false, true] }` for q and v).
 */
export type QkvProjection = 'separate' | 'fused' | { enableLora: [boolean, boolean, boolean] };

/** Options of {@link multiHeadAttention}. */
export interface MultiHeadAttentionOptions {
  /** Name prefix of the sublayers, e.g. `'h.0.attn'` gives `h.0.attn.query`, ..., `h.0.attn.output`. */
  name: string;
  /** Number of heads (divides the width). */
  numHeads: number;
  /** Model width; default: the input's last axis. */
  width?: number;
  /** Causal (decoder) masking. */
  causal?: boolean;
  /** Query/key/value projection layout (default `'separate'`). */
  qkv?: QkvProjection;
  /** Biases on the projections (default true). */
  useBias?: boolean;
  /** Seed for the projection initialisers (each layer gets seed + its index). */
  seed?: number;
}

function dense(name: string, units: number, useBias: boolean, seed: number | undefined): tfl.layers.Layer {
  return tfl.layers.dense({ name, units, useBias, kernelInitializer: tfl.initializers.glorotUniform({ seed }) });
}

/**
 * Multi-head self-attention built from ordinary layers, so that LoRA sees and can target each projection:
 * Dense `<name>.query`, `<name>.key`, `<name>.value` (or one `<name>.qkv`), the weightless
 * {@link ScaledDotProductAttention} `<name>.sdpa`, and Dense `<name>.output`. `targetModules: ['query',
 * 'value']` matches every block's q and v by dotted suffix. Returns the attention output [batch, time, width].
 */
export function multiHeadAttention(x: tfl.SymbolicTensor, options: MultiHeadAttentionOptions): tfl.SymbolicTensor {
  const width = options.width ?? (x.shape[x.shape.length - 1] as number | null);
  if (typeof width !== 'number' || width % options.numHeads !== 0) {
    throw new LoraConfigError(
      `multiHeadAttention '${options.name}': width ${width} must be a known multiple of numHeads ${options.numHeads}. Pass width, or change numHeads.`,
      { field: 'numHeads' },
    );
  }
  const { name, numHeads, causal = false, qkv = 'separate', useBias = true } = options;
  const seed = (i: number): number | undefined => (options.seed === undefined ? undefined : options.seed + i);
  const sdpa = (fused: boolean) => new ScaledDotProductAttention({ name: `${name}.sdpa`, numHeads, causal, fused });
  let context: tfl.SymbolicTensor;
  if (qkv === 'separate') {
    const [q, k, v] = (['query', 'key', 'value'] as const).map(
      (part, i) => dense(`${name}.${part}`, width, useBias, seed(i)).apply(x) as tfl.SymbolicTensor,
    );
    context = sdpa(false).apply([q!, k!, v!]) as tfl.SymbolicTensor;
  } else {
    const projection =
      qkv === 'fused'
        ? dense(`${name}.qkv`, 3 * width, useBias, seed(0))
        : new MergedDense({
            name: `${name}.qkv`,
            units: 3 * width,
            enableLora: [...qkv.enableLora],
            useBias,
            seed: seed(0),
          });
    context = sdpa(true).apply(projection.apply(x) as tfl.SymbolicTensor) as tfl.SymbolicTensor;
  }
  return dense(`${name}.output`, width, useBias, seed(3)).apply(context) as tfl.SymbolicTensor;
}
