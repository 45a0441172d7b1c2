import type * as tfl from '@tensorflow/tfjs-layers';
import type { ModuleMap } from '@tfjs-lora/core';

/** A model family whose PEFT module paths {@link peftModuleMap} knows. */
export type PeftModelFamily = 'distilbert' | 'bert' | 'gpt2';

/** Options of {@link peftModuleMap}. */
export interface PeftModuleMapOptions {
  /** Prefix of the block names in the tfjs model (default `'h'`: blocks `h.0`, `h.1`, ...). */
  blockPrefix?: string;
  /** Extra exact PEFT path → layer path entries (task heads etc.), consulted first; `null` skips a module. */
  extra?: Readonly<Record<string, string | null>>;
  /**
   * The model the adapter goes into: a mapped path that is not one of its layers then falls through to the
   * default rule (so a shallower model, e.g. 2 of GPT-2's 12 blocks, can load with `strict: false`).
   */
  model?: tfl.LayersModel;
}

/** Dotted paths of a model's layers, descending into nested models (as core's target matching names them). */
function layerPaths(model: { layers?: tfl.layers.Layer[] }, prefix = ''): string[] {
  return (model.layers ?? []).flatMap((l) => {
    const inner = (l as { layers?: tfl.layers.Layer[] }).layers;
    return Array.isArray(inner)
      ? layerPaths(l as { layers?: tfl.layers.Layer[] }, `${prefix}${l.name}.`)
      : [prefix + l.name];
  });
}

type Rule = readonly [RegExp, string];

// Each rule rewrites a PEFT module path into this package's layer names ({block} = block prefix + index).
const RULES: Readonly<Record<PeftModelFamily, readonly Rule[]>> = {
  distilbert: [
    [/^(?:distilbert\.)?transformer\.layer\.(\d+)\.attention\.q_lin$/, '{block}.attn.query'],
    [/^(?:distilbert\.)?transformer\.layer\.(\d+)\.attention\.k_lin$/, '{block}.attn.key'],
    [/^(?:distilbert\.)?transformer\.layer\.(\d+)\.attention\.v_lin$/, '{block}.attn.value'],
    [/^(?:distilbert\.)?transformer\.layer\.(\d+)\.attention\.out_lin$/, '{block}.attn.output'],
    [/^(?:distilbert\.)?transformer\.layer\.(\d+)\.ffn\.lin1$/, '{block}.mlp.fc_in'],
    [/^(?:distilbert\.)?transformer\.layer\.(\d+)\.ffn\.lin2$/, '{block}.mlp.fc_out'],
    [/^(?:distilbert\.)?transformer\.layer\.(\d+)\.sa_layer_norm$/, '{block}.ln_1'],
    [/^(?:distilbert\.)?transformer\.layer\.(\d+)\.output_layer_norm$/, '{block}.ln_2'],
    [/^(?:distilbert\.)?embeddings\.word_embeddings$/, 'wte'],
    [/^(pre_classifier|classifier)$/, '$1'],
  ],
  bert: [
    [/^(?:bert\.)?encoder\.layer\.(\d+)\.attention\.self\.(query|key|value)$/, '{block}.attn.$2'],
    [/^(?:bert\.)?encoder\.layer\.(\d+)\.attention\.output\.dense$/, '{block}.attn.output'],
    [/^(?:bert\.)?encoder\.layer\.(\d+)\.attention\.output\.LayerNorm$/, '{block}.ln_1'],
    [/^(?:bert\.)?encoder\.layer\.(\d+)\.intermediate\.dense$/, '{block}.mlp.fc_in'],
    [/^(?:bert\.)?encoder\.layer\.(\d+)\.output\.dense$/, '{block}.mlp.fc_out'],
    [/^(?:bert\.)?encoder\.layer\.(\d+)\.output\.LayerNorm$/, '{block}.ln_2'],
    [/^(?:bert\.)?embeddings\.word_embeddings$/, 'wte'],
    [/^(?:bert\.)?pooler\.dense$/, 'pooler'],
    [/^(classifier)$/, '$1'],
  ],
  gpt2: [
    [/^(?:transformer\.)?h\.(\d+)\.attn\.c_attn$/, '{block}.attn.qkv'],
    [/^(?:transformer\.)?h\.(\d+)\.attn\.c_proj$/, '{block}.attn.output'],
    [/^(?:transformer\.)?h\.(\d+)\.mlp\.c_fc$/, '{block}.mlp.fc_in'],
    [/^(?:transformer\.)?h\.(\d+)\.mlp\.c_proj$/, '{block}.mlp.fc_out'],
    [/^(?:transformer\.)?h\.(\d+)\.(ln_1|ln_2)$/, '{block}.$2'],
    [/^(?:transformer\.)?(wte|ln_f)$/, '$1'],
    [/^(lm_head|score)$/, '$1'],
  ],
};

/** The tfjs layer path this package's builders give a PEFT module path, or undefined when no rule applies. */
export function peftPathToLayer(
  family: PeftModelFamily,
  peftPath: string,
  options: PeftModuleMapOptions = {},
): string | undefined {
  const prefix = options.blockPrefix ?? 'h';
  for (const [pattern, target] of RULES[family]) {
    const m = pattern.exec(peftPath);
    if (!m) continue;
    return target.replace('{block}', `${prefix}.${m[1]}`).replace(/\$(\d)/g, (_, i: string) => m[Number(i)] ?? '');
  }
  return undefined;
}

/**
 * A `moduleMap` (for `applyLora(model, adapter, {moduleMap})` and `loraModel.loadAdapter`) that lands PEFT
 * module paths of Hugging Face models on the layers of {@link transformerLM} / {@link transformerClassifier}:
 *
 * | family | PEFT module | layer |
 * |---|---|---|
 * | `distilbert` | `distilbert.transformer.layer.<i>.attention.{q,k,v,out}_lin`, `ffn.lin1/lin2` | `h.<i>.attn.{query,key,value,output}`, `h.<i>.mlp.fc_in/fc_out` |
 * | `bert` | `bert.encoder.layer.<i>.attention.self.{query,key,value}`, `attention.output.dense`, `intermediate.dense`, `output.dense` | same |
 * | `gpt2` | `transformer.h.<i>.attn.c_attn` (fused q\|k\|v), `attn.c_proj`, `mlp.c_fc`, `mlp.c_proj` | `h.<i>.attn.qkv` (build with `qkv: 'fused'`), `h.<i>.attn.output`, `h.<i>.mlp.*` |
 *
 * plus word embeddings → `wte`, LayerNorms → `ln_1`/`ln_2`/`ln_f`, and task heads (`classifier`,
 * `pre_classifier`, `score`, `lm_head`) under their own names. GPT-2's `fan_in_fan_out` needs no
 * conversion: its Conv1D weights are [in, out] like a tfjs Dense kernel, and PEFT saves its LoRA factors
 * in nn.Linear layout, which the Dense adapter reads. Paths no rule knows fall through to core's default rule.
 */
export function peftModuleMap(family: PeftModelFamily, options: PeftModuleMapOptions = {}): ModuleMap {
  const known = options.model ? new Set(layerPaths(options.model)) : null;
  return (peftPath: string) => {
    if (options.extra && Object.hasOwn(options.extra, peftPath)) return options.extra[peftPath];
    const layer = peftPathToLayer(family, peftPath, options);
    return known && layer !== undefined && !known.has(layer) ? undefined : layer;
  };
}
