// The architectures of the 'hf-vision' format and how each is built from config.json.
import type * as tfl from '@tensorflow/tfjs-layers';
import { ModelFormatError } from '@tfjs-lora/core';
import { hfArchitecture } from '@tfjs-lora/core/pretrained';
import { buildResNetGraph, readResNetConfig } from './resnet.js';
import { VIT_ARCHITECTURES, readVitConfig, type VitArchitecture } from './vit-config.js';
import { buildVitGraph } from './vit-graph.js';

/** The Hugging Face vision architectures the 'hf-vision' format builds. */
export const HF_VISION_ARCHITECTURES = [...VIT_ARCHITECTURES, 'ResNetForImageClassification'] as const;

/** One of {@link HF_VISION_ARCHITECTURES}. */
export type HfVisionArchitecture = (typeof HF_VISION_ARCHITECTURES)[number];

/** `model_type` → the architecture, for configs without `architectures`. */
const BY_MODEL_TYPE: Record<string, HfVisionArchitecture> = { vit: 'ViTModel' };

/** The architecture to build: `override`, else config.json's `architectures[0]`, else its `model_type`'s base model. */
export function hfVisionArchitecture(config: Record<string, unknown>, override?: string): string {
  const arch = override ?? hfArchitecture(config) ?? '(none)';
  return BY_MODEL_TYPE[arch] ?? arch;
}

/** A built graph and its trunk's module-path prefix. */
export interface HfVisionGraph {
  /** The model, freshly initialised. */
  readonly model: tfl.LayersModel;
  /** `'vit.'`, `'resnet.'`, or `''` (ViTModel). */
  readonly prefix: string;
}

/**
 * Builds `architecture` from config.json. `withPooler`: ViTModel gets its pooler (when the checkpoint has one).
 * Throws ModelFormatError for an architecture not in {@link HF_VISION_ARCHITECTURES}, naming them.
 */
export function buildHfVisionGraph(
  config: Record<string, unknown>,
  architecture: string,
  withPooler: boolean,
): HfVisionGraph {
  if (architecture === 'ResNetForImageClassification') {
    const spec = readResNetConfig(config);
    return { model: buildResNetGraph(spec), prefix: spec.prefix };
  }
  if ((VIT_ARCHITECTURES as readonly string[]).includes(architecture)) {
    const spec = readVitConfig(config, architecture as VitArchitecture, withPooler);
    return { model: buildVitGraph(spec), prefix: spec.prefix };
  }
  throw new ModelFormatError(
    `Architecture '${architecture}' is not supported by @tfjs-lora/vision's 'hf-vision' format; supported: ${HF_VISION_ARCHITECTURES.join(', ')}. ` +
      `Pass { architecture } to build one of them from this checkpoint, or convert the model to a tfjs LayersModel.`,
  );
}
