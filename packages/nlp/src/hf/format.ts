// The 'hf-text' model format: Hugging Face GPT-2, BERT and DistilBERT checkpoints for core's loadPretrained.
import type * as tfl from '@tensorflow/tfjs-layers';
import { registerModelFormat, type LoadPretrainedOptions, type ModelFormat } from '@tfjs-lora/core';
import { HF_CONFIG_NAME, matchHfCheckpoint, readHfCheckpoint } from '@tfjs-lora/core/pretrained';
import { buildHfTextGraph } from './architectures.js';
import { HF_TEXT_ARCHITECTURES, hfTextArchitecture, readHfTextConfig } from './config.js';
import { loadHfWeights } from './load-weights.js';

/** Options of the 'hf-text' format (pass them to `loadPretrained`). */
export interface HfTextOptions {
  /** Build this architecture instead of config.json's (e.g. `'BertForSequenceClassification'` from a BertForMaskedLM checkpoint). */
  architecture?: string;
  /** Classes of a new sequence-classification head (default: config.json's `id2label` / `num_labels`). */
  numLabels?: number;
}

function overrides(config: Record<string, unknown>, options: HfTextOptions): Record<string, unknown> {
  return options.numLabels === undefined ? config : { ...config, id2label: undefined, num_labels: options.numLabels };
}

/**
 * A tf.LayersModel of a Hugging Face text architecture from its config.json alone, with random weights
 * (transformers' normal(0, 0.02) init): for benchmarks and tests. Layer names and inputs as {@link hfTextFormat}.
 */
export function buildHfTextModel(
  config: Record<string, unknown>,
  options: HfTextOptions & { seed?: number } = {},
): tfl.LayersModel {
  const c = readHfTextConfig(overrides(config, options), hfTextArchitecture(config, options.architecture));
  return buildHfTextGraph(c, { random: true, seed: options.seed }).model;
}

/**
 * Hugging Face text checkpoints (config.json + model.safetensors or shards; F32, F16, BF16) for
 * `loadPretrained`: GPT2LMHeadModel, GPT2ForSequenceClassification, GPT2Model, BertModel,
 * BertForSequenceClassification, DistilBertModel, DistilBertForSequenceClassification, chosen by config.json
 * (`architectures`, else `model_type`). The model's layers are named by the PyTorch module paths
 * (`transformer.h.0.attn.c_attn`), so PEFT adapters apply with no module map; its inputs are `input_ids`,
 * `attention_mask` (and BERT's `token_type_ids`), int32 [batch, time]; its output is the logits (base models:
 * the last hidden state, and BERT's pooler output second). Registered when `@tfjs-lora/nlp` is imported.
 */
export const hfTextFormat: ModelFormat = {
  name: 'hf-text',
  packageName: '@tfjs-lora/nlp',
  async match(files, options) {
    const found = await matchHfCheckpoint(files);
    if (found !== true) return found;
    const config = (await files.readJson(HF_CONFIG_NAME))!;
    const arch = hfTextArchitecture(config, options['architecture'] as string | undefined);
    return (HF_TEXT_ARCHITECTURES as readonly string[]).includes(arch)
      ? true
      : `${HF_CONFIG_NAME} names '${arch}', not one of ${HF_TEXT_ARCHITECTURES.join(', ')}`;
  },
  async load(files, options: LoadPretrainedOptions & HfTextOptions) {
    const checkpoint = await readHfCheckpoint(files, options);
    try {
      const config = overrides(checkpoint.config, options);
      const c = readHfTextConfig(config, hfTextArchitecture(config, options.architecture));
      const graph = buildHfTextGraph(c, { random: false });
      let report;
      try {
        report = loadHfWeights(graph, checkpoint.tensors, c.tieWordEmbeddings);
      } catch (e) {
        graph.model.dispose();
        throw e;
      }
      graph.model.setUserDefinedMetadata({
        huggingFace: { architecture: c.architecture, newlyInitialized: [...report.newlyInitialized] },
      });
      return graph.model;
    } finally {
      checkpoint.dispose();
    }
  },
};

/** Registers {@link hfTextFormat} with core's `loadPretrained` (done on import of `@tfjs-lora/nlp`). */
export function registerHfTextFormat(): void {
  registerModelFormat(hfTextFormat);
}
