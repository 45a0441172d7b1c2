// The 'hf-vision' model format: Hugging Face ViT checkpoints for core's loadPretrained.
import type * as tfl from '@tensorflow/tfjs-layers';
import { registerModelFormat, type LoadPretrainedOptions, type ModelFormat } from '@tfjs-lora/core';
import { MODULE_ALIASES_METADATA_KEY } from '@tfjs-lora/core/peft';
import { HF_CONFIG_NAME, matchHfCheckpoint, readHfCheckpoint } from '@tfjs-lora/core/pretrained';
import { buildHfVisionGraph, HF_VISION_ARCHITECTURES, hfVisionArchitecture } from './architectures.js';
import { loadHfWeights } from './load-weights.js';
import { VIT_TRANSFORMERS5_ALIASES } from './module-aliases.js';

/** Options of the 'hf-vision' format (pass them to `loadPretrained`). */
export interface HfVisionOptions {
  /** Build this architecture instead of config.json's (e.g. `'ViTForImageClassification'` from a ViTModel checkpoint). */
  architecture?: string;
  /** Classes of a new, randomly initialised classification head (default: config.json's `id2label` / `num_labels`, and the checkpoint's head). */
  numLabels?: number;
}

/**
 * A tf.LayersModel of a Hugging Face ViT from its config.json alone, with random weights: for benchmarks
 * and tests. Layer names, input and outputs as {@link hfVisionFormat}; ViTModel is built with its pooler.
 */
export function buildHfVisionModel(config: Record<string, unknown>, options: HfVisionOptions = {}): tfl.LayersModel {
  const c =
    options.numLabels === undefined ? config : { ...config, id2label: undefined, num_labels: options.numLabels };
  const arch = hfVisionArchitecture(config, options.architecture);
  const { model } = buildHfVisionGraph(c, arch, true);
  if (arch.startsWith('ViT'))
    model.setUserDefinedMetadata({ [MODULE_ALIASES_METADATA_KEY]: VIT_TRANSFORMERS5_ALIASES });
  return model;
}

/**
 * Hugging Face vision checkpoints (config.json + model.safetensors or shards; F32, F16, BF16) for
 * `loadPretrained`: ViTModel, ViTForImageClassification and ResNetForImageClassification, chosen by config.json
 * (`architectures`, else `model_type`). The model's layers are named by transformers 4's module paths as stored in checkpoints
 * (`vit.encoder.layer.0.attention.attention.query`), and its metadata lists transformers 5's names
 * (`vit.layers.0.attention.q_proj`) as aliases, so PEFT adapters made under either apply with no module map.
 * Input `pixel_values` [batch, height, width, channels], NHWC as tfjs convolutions take it (PyTorch's
 * `pixel_values` is NCHW: transpose with `tf.transpose(x, [0, 2, 3, 1])`), already normalised as the
 * checkpoint's image processor does. Output: the logits [batch, labels] (ViTForImageClassification), or the
 * last hidden state [batch, patches + 1, hidden] (ViTModel; with a pooler in the checkpoint, the pooler
 * output second). ResNet: layers `resnet.embedder.embedder.convolution`, `resnet.encoder.stages.S.layers.L.layer.K.
 * convolution` (Conv2D, LoRA via this package's Conv2D kind) and `.normalization` (BatchNorm), `classifier.1`;
 * any image size. Registered when `@tfjs-lora/vision` is imported.
 */
export const hfVisionFormat: ModelFormat = {
  name: 'hf-vision',
  packageName: '@tfjs-lora/vision',
  async match(files, options) {
    const found = await matchHfCheckpoint(files);
    if (found !== true) return found;
    const config = (await files.readJson(HF_CONFIG_NAME))!;
    const arch = hfVisionArchitecture(config, options['architecture'] as string | undefined);
    return (HF_VISION_ARCHITECTURES as readonly string[]).includes(arch)
      ? true
      : `${HF_CONFIG_NAME} names '${arch}', not one of ${HF_VISION_ARCHITECTURES.join(', ')}`;
  },
  async load(files, options: LoadPretrainedOptions & HfVisionOptions) {
    const checkpoint = await readHfCheckpoint(files, options);
    try {
      const { config, tensors } = checkpoint;
      const arch = hfVisionArchitecture(config, options.architecture);
      const withPooler = tensors.has('pooler.dense.weight') || tensors.has('vit.pooler.dense.weight');
      const c =
        options.numLabels === undefined ? config : { ...config, id2label: undefined, num_labels: options.numLabels };
      const { model, prefix } = buildHfVisionGraph(c, arch, withPooler);
      let report;
      try {
        const fresh = new Set(options.numLabels === undefined ? [] : ['classifier', 'classifier.1']);
        report = loadHfWeights(model, { architecture: arch, prefix }, tensors, fresh);
      } catch (e) {
        model.dispose();
        throw e;
      }
      model.setUserDefinedMetadata({
        huggingFace: { architecture: arch, newlyInitialized: [...report.newlyInitialized] },
        ...(arch.startsWith('ViT') ? { [MODULE_ALIASES_METADATA_KEY]: VIT_TRANSFORMERS5_ALIASES } : {}),
      });
      return model;
    } finally {
      checkpoint.dispose();
    }
  },
};

/** Registers {@link hfVisionFormat} with core's `loadPretrained` (done on import of `@tfjs-lora/vision`). */
export function registerHfVisionFormat(): void {
  registerModelFormat(hfVisionFormat);
}
