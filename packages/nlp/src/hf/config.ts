// config.json of a Hugging Face text model → the few numbers the builders need, checked.
import { ModelFormatError } from '@tfjs-lora/core';

/** The Hugging Face text architectures `loadPretrained` builds (config.json `architectures[0]`). */
export const HF_TEXT_ARCHITECTURES = [
  'GPT2LMHeadModel',
  'GPT2ForSequenceClassification',
  'GPT2Model',
  'BertModel',
  'BertForSequenceClassification',
  'DistilBertModel',
  'DistilBertForSequenceClassification',
] as const;

/** One of {@link HF_TEXT_ARCHITECTURES}. */
export type HfTextArchitecture = (typeof HF_TEXT_ARCHITECTURES)[number];

/** The model families (config.json `model_type`). */
export type HfTextFamily = 'gpt2' | 'bert' | 'distilbert';

/** A config.json read into what the builders use. */
export interface HfTextConfig {
  readonly architecture: HfTextArchitecture;
  readonly family: HfTextFamily;
  readonly vocabSize: number;
  readonly hidden: number;
  readonly layers: number;
  readonly heads: number;
  readonly inner: number;
  readonly maxPositions: number;
  readonly epsilon: number;
  /** tfjs activation name of the MLP. */
  readonly activation: 'gelu' | 'gelu_new' | 'relu';
  /** BERT's token-type vocabulary (0 for the others). */
  readonly typeVocabSize: number;
  /** Classes of a sequence-classification head. */
  readonly numLabels: number;
  /** The padding id (GPT2ForSequenceClassification pools the last token that is not padding). */
  readonly padTokenId: number | null;
  /** GPT-2: whether lm_head shares wte's table (true unless config says otherwise). */
  readonly tieWordEmbeddings: boolean;
}

const FAMILY_OF: Record<string, HfTextFamily> = { gpt2: 'gpt2', bert: 'bert', distilbert: 'distilbert' };

/** The architecture to build for a config: `architectures[0]` when supported, else the family's base model. */
export function hfTextArchitecture(config: Record<string, unknown>, override?: string): HfTextArchitecture | string {
  if (override !== undefined) return override;
  const archs = Array.isArray(config['architectures']) ? (config['architectures'] as unknown[]) : [];
  const known = archs.find((a): a is HfTextArchitecture => HF_TEXT_ARCHITECTURES.includes(a as HfTextArchitecture));
  if (known) return known;
  const family = FAMILY_OF[String(config['model_type'])];
  if (family === 'gpt2') return 'GPT2LMHeadModel'; // GPT-2 checkpoints (GPT2LMHeadModel, GPT2DoubleHeadsModel...) are LMs
  if (family === 'bert') return 'BertModel';
  if (family === 'distilbert') return 'DistilBertModel';
  return typeof archs[0] === 'string' ? archs[0] : String(config['model_type']);
}

function int(config: Record<string, unknown>, key: string, fallback?: number): number {
  const v = config[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0)
    throw new ModelFormatError(`config.json: '${key}' must be a non-negative integer; found ${JSON.stringify(v)}.`);
  return v;
}

function activation(name: unknown): HfTextConfig['activation'] {
  if (name === 'gelu' || name === 'relu' || name === 'gelu_new') return name;
  if (name === 'gelu_pytorch_tanh' || name === 'gelu_fast') return 'gelu_new';
  throw new ModelFormatError(
    `config.json names the activation ${JSON.stringify(name)}; supported: gelu, gelu_new (gelu_pytorch_tanh), relu.`,
  );
}

function numLabels(config: Record<string, unknown>): number {
  const id2label = config['id2label'];
  if (typeof id2label === 'object' && id2label !== null) return Object.keys(id2label).length;
  return int(config, 'num_labels', 2);
}

/** Reads config.json for `architecture`; a {@link ModelFormatError} names what is missing or unsupported. */
export function readHfTextConfig(config: Record<string, unknown>, architecture: string): HfTextConfig {
  if (!HF_TEXT_ARCHITECTURES.includes(architecture as HfTextArchitecture)) {
    throw new ModelFormatError(
      `Architecture '${architecture}' is not one the 'hf-text' format builds; supported: ${HF_TEXT_ARCHITECTURES.join(', ')}. ` +
        "Pass { architecture: '...' } to build one of these from a checkpoint of the same family.",
    );
  }
  const arch = architecture as HfTextArchitecture;
  const family: HfTextFamily = arch.startsWith('GPT2') ? 'gpt2' : arch.startsWith('DistilBert') ? 'distilbert' : 'bert';
  const common = { architecture: arch, family, vocabSize: int(config, 'vocab_size') };
  const padTokenId = typeof config['pad_token_id'] === 'number' ? (config['pad_token_id'] as number) : null;
  if (family === 'gpt2') {
    if (config['scale_attn_by_inverse_layer_idx'] === true || config['scale_attn_weights'] === false)
      throw new ModelFormatError(
        'config.json sets scale_attn_by_inverse_layer_idx or scale_attn_weights: false; only the standard GPT-2 attention scaling is built.',
      );
    const hidden = int(config, 'n_embd');
    const inner = config['n_inner'] === null || config['n_inner'] === undefined ? 4 * hidden : int(config, 'n_inner');
    return {
      ...common,
      hidden,
      layers: int(config, 'n_layer'),
      heads: int(config, 'n_head'),
      inner,
      maxPositions: int(config, 'n_positions'),
      epsilon: Number(config['layer_norm_epsilon'] ?? 1e-5),
      activation: activation(config['activation_function'] ?? 'gelu_new'),
      typeVocabSize: 0,
      numLabels: numLabels(config),
      padTokenId,
      tieWordEmbeddings: config['tie_word_embeddings'] !== false,
    };
  }
  if (family === 'distilbert') {
    return {
      ...common,
      hidden: int(config, 'dim'),
      layers: int(config, 'n_layers'),
      heads: int(config, 'n_heads'),
      inner: int(config, 'hidden_dim'),
      maxPositions: int(config, 'max_position_embeddings'),
      epsilon: 1e-12, // fixed in transformers' DistilBERT
      activation: activation(config['activation'] ?? 'gelu'),
      typeVocabSize: 0,
      numLabels: numLabels(config),
      padTokenId,
      tieWordEmbeddings: false,
    };
  }
  const posType = config['position_embedding_type'] ?? 'absolute';
  if (posType !== 'absolute')
    throw new ModelFormatError(
      `config.json sets position_embedding_type '${String(posType)}'; only 'absolute' BERT position embeddings are built.`,
    );
  return {
    ...common,
    hidden: int(config, 'hidden_size'),
    layers: int(config, 'num_hidden_layers'),
    heads: int(config, 'num_attention_heads'),
    inner: int(config, 'intermediate_size'),
    maxPositions: int(config, 'max_position_embeddings'),
    epsilon: Number(config['layer_norm_eps'] ?? 1e-12),
    activation: activation(config['hidden_act'] ?? 'gelu'),
    typeVocabSize: int(config, 'type_vocab_size', 2),
    numLabels: numLabels(config),
    padTokenId,
    tieWordEmbeddings: false,
  };
}
