// A Hugging Face ViT config.json, read and checked once: the sizes the tfjs graph is built from.
import { ModelFormatError } from '@tfjs-lora/core';

/** The ViT architectures the 'hf-vision' format builds. */
export const VIT_ARCHITECTURES = ['ViTModel', 'ViTForImageClassification'] as const;

/** One of {@link VIT_ARCHITECTURES}. */
export type VitArchitecture = (typeof VIT_ARCHITECTURES)[number];

/** The sizes of a ViT, from config.json. */
export interface VitSpec {
  /** The architecture built. */
  readonly architecture: VitArchitecture;
  /** Module-path prefix of the trunk: `'vit.'` inside a task model, `''` for ViTModel. */
  readonly prefix: string;
  /** Image height and width in pixels. */
  readonly imageSize: readonly [number, number];
  /** Patch height and width. */
  readonly patchSize: readonly [number, number];
  /** Input channels. */
  readonly channels: number;
  /** Hidden size. */
  readonly hidden: number;
  /** Encoder layers. */
  readonly layers: number;
  /** Attention heads. */
  readonly heads: number;
  /** MLP inner size. */
  readonly intermediate: number;
  /** LayerNorm epsilon. */
  readonly eps: number;
  /** tfjs activation name of the MLP. */
  readonly activation: 'gelu' | 'relu';
  /** Whether query/key/value have biases. */
  readonly qkvBias: boolean;
  /** Classes of the classification head (ViTForImageClassification). */
  readonly numLabels: number;
  /** Pooler output size and activation (ViTModel with a pooler). */
  readonly pooler: { readonly size: number; readonly activation: 'tanh' | 'relu' | 'linear' } | null;
}

function pair(config: Record<string, unknown>, key: string, fallback: number): [number, number] {
  const v = config[key] ?? fallback;
  if (typeof v === 'number') return [v, v];
  if (Array.isArray(v) && v.length === 2 && v.every((n) => typeof n === 'number')) return [v[0], v[1]];
  throw new ModelFormatError(`config.json's ${key} must be a number or [height, width]; found ${JSON.stringify(v)}.`);
}

function num(config: Record<string, unknown>, key: string, fallback: number): number {
  const v = config[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new ModelFormatError(`config.json's ${key} must be a number; found ${JSON.stringify(v)}.`);
  return v;
}

const ACTIVATIONS: Record<string, 'gelu' | 'relu'> = { gelu: 'gelu', relu: 'relu' };
const POOLER_ACTIVATIONS: Record<string, 'tanh' | 'relu' | 'linear'> = { tanh: 'tanh', relu: 'relu', linear: 'linear' };

/**
 * The {@link VitSpec} of `config` for `architecture` (transformers' ViTConfig defaults where a key is
 * missing). `withPooler`: build ViTModel's pooler (when the checkpoint has one). Throws ModelFormatError for
 * an unsupported activation or sizes that do not fit.
 */
export function readVitConfig(config: Record<string, unknown>, arch: VitArchitecture, withPooler: boolean): VitSpec {
  const act = String(config['hidden_act'] ?? 'gelu');
  const poolerAct = String(config['pooler_act'] ?? 'tanh');
  if (!ACTIVATIONS[act] || !POOLER_ACTIVATIONS[poolerAct])
    throw new ModelFormatError(
      `config.json's hidden_act '${act}' / pooler_act '${poolerAct}' is not supported; supported: hidden_act ${Object.keys(ACTIVATIONS).join(', ')}, pooler_act ${Object.keys(POOLER_ACTIVATIONS).join(', ')}.`,
    );
  const id2label = config['id2label'];
  const numLabels =
    id2label && typeof id2label === 'object' ? Object.keys(id2label).length : num(config, 'num_labels', 2);
  const hidden = num(config, 'hidden_size', 768);
  const heads = num(config, 'num_attention_heads', 12);
  const spec: VitSpec = {
    architecture: arch,
    prefix: arch === 'ViTModel' ? '' : 'vit.',
    imageSize: pair(config, 'image_size', 224),
    patchSize: pair(config, 'patch_size', 16),
    channels: num(config, 'num_channels', 3),
    hidden,
    layers: num(config, 'num_hidden_layers', 12),
    heads,
    intermediate: num(config, 'intermediate_size', 3072),
    eps: num(config, 'layer_norm_eps', 1e-12),
    activation: ACTIVATIONS[act]!,
    qkvBias: config['qkv_bias'] !== false,
    numLabels,
    pooler:
      arch === 'ViTModel' && withPooler
        ? { size: num(config, 'pooler_output_size', hidden), activation: POOLER_ACTIVATIONS[poolerAct]! }
        : null,
  };
  if (hidden % heads !== 0 || spec.imageSize.some((s, i) => s % spec.patchSize[i]! !== 0))
    throw new ModelFormatError(
      `config.json's sizes do not fit: hidden_size ${hidden} must be divisible by num_attention_heads ${heads}, and image_size [${spec.imageSize.join(', ')}] by patch_size [${spec.patchSize.join(', ')}].`,
    );
  return spec;
}
