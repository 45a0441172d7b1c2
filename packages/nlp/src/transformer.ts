import * as tfl from '@tensorflow/tfjs-layers';
import { LoraConfigError } from '@tfjs-lora/core';
import { LayerNorm } from './layer-norm.js';
import { multiHeadAttention, type QkvProjection } from './multi-head-attention.js';
import { PositionEmbedding } from './position-embedding.js';

/** Options of {@link transformerBlock}. */
export interface TransformerBlockOptions {
  /** Name prefix, e.g. `'h.0'`: sublayers `h.0.ln_1`, `h.0.attn.query`, ..., `h.0.mlp.fc_in`, `h.0.mlp.fc_out`. */
  name: string;
  /** Attention heads. */
  numHeads: number;
  /** Hidden width of the MLP (usually 4 · width). */
  mlpDim: number;
  /** Causal self-attention (decoder). */
  causal?: boolean;
  /** q/k/v projection layout (default `'separate'`). */
  qkv?: QkvProjection;
  /** `'pre'` (GPT-2: x + f(LN(x))) or `'post'` (BERT, DistilBERT: LN(x + f(x))); default `'pre'`. */
  norm?: 'pre' | 'post';
  /** MLP activation (default `'gelu'`). */
  activation?: 'gelu' | 'gelu_new' | 'relu';
  /** LayerNorm epsilon (default 1e-5). */
  epsilon?: number;
  /** Seed for the initialisers. */
  seed?: number;
}

/**
 * A transformer block of ordinary layers: self-attention ({@link multiHeadAttention}, sublayers
 * `<name>.attn.*`) and an MLP (Dense `<name>.mlp.fc_in` with the activation, Dense `<name>.mlp.fc_out`),
 * each with a residual connection and {@link LayerNorm} (`<name>.ln_1`, `<name>.ln_2`), pre-LN by default.
 */
export function transformerBlock(x: tfl.SymbolicTensor, options: TransformerBlockOptions): tfl.SymbolicTensor {
  const {
    name,
    numHeads,
    mlpDim,
    causal = false,
    qkv = 'separate',
    norm = 'pre',
    activation = 'gelu',
    epsilon = 1e-5,
    seed,
  } = options;
  const width = x.shape[x.shape.length - 1] as number;
  const ln = (i: 1 | 2) => new LayerNorm({ name: `${name}.ln_${i}`, epsilon });
  const add = (i: 1 | 2, a: tfl.SymbolicTensor, b: tfl.SymbolicTensor) =>
    tfl.layers.add({ name: `${name}.add_${i}` }).apply([a, b]) as tfl.SymbolicTensor;
  const attn = (h: tfl.SymbolicTensor) => multiHeadAttention(h, { name: `${name}.attn`, numHeads, causal, qkv, seed });
  const mlp = (h: tfl.SymbolicTensor) => {
    const s = (i: number) => tfl.initializers.glorotUniform({ seed: seed === undefined ? undefined : seed + 10 + i });
    const hidden = tfl.layers
      .dense({ name: `${name}.mlp.fc_in`, units: mlpDim, activation, kernelInitializer: s(0) })
      .apply(h);
    return tfl.layers
      .dense({ name: `${name}.mlp.fc_out`, units: width, kernelInitializer: s(1) })
      .apply(hidden) as tfl.SymbolicTensor;
  };
  if (norm === 'pre') {
    const a = add(1, x, attn(ln(1).apply(x) as tfl.SymbolicTensor));
    return add(2, a, mlp(ln(2).apply(a) as tfl.SymbolicTensor));
  }
  const a = ln(1).apply(add(1, x, attn(x))) as tfl.SymbolicTensor;
  return ln(2).apply(add(2, a, mlp(a))) as tfl.SymbolicTensor;
}

/** Options of {@link tokenAndPositionEmbedding}. */
export interface TokenAndPositionEmbeddingOptions {
  /** Vocabulary size. */
  vocabSize: number;
  /** Longest sequence. */
  maxLength: number;
  /** Model width. */
  width: number;
  /** Token table name (default `'wte'`). */
  tokenName?: string;
  /** Position table name (default `'wpe'`). */
  positionName?: string;
  /** Seed for the initialisers. */
  seed?: number;
}

/**
 * Token ids [batch, time] → token embedding (a stock tfjs `Embedding` named `wte`, which the nlp package's
 * Embedding LoRA adapter can target) plus learned position embedding ({@link PositionEmbedding} `wpe`).
 */
export function tokenAndPositionEmbedding(
  ids: tfl.SymbolicTensor,
  options: TokenAndPositionEmbeddingOptions,
): tfl.SymbolicTensor {
  const { vocabSize, maxLength, width, tokenName = 'wte', positionName = 'wpe', seed } = options;
  const tokens = tfl.layers
    .embedding({
      name: tokenName,
      inputDim: vocabSize,
      outputDim: width,
      embeddingsInitializer: tfl.initializers.randomNormal({ stddev: 0.02, seed }),
    })
    .apply(ids) as tfl.SymbolicTensor;
  return new PositionEmbedding({
    name: positionName,
    maxLength,
    seed: seed === undefined ? undefined : seed + 1,
  }).apply(tokens) as tfl.SymbolicTensor;
}

/** Shape of a small transformer (see {@link transformerLM}). */
export interface TransformerConfig {
  /** Vocabulary size. */
  vocabSize: number;
  /** Longest sequence (position table size). */
  maxLength: number;
  /** Model width. */
  width: number;
  /** Attention heads. */
  numHeads: number;
  /** Number of blocks. */
  numLayers: number;
  /** MLP hidden width (default 4 · width). */
  mlpDim?: number;
  /** q/k/v projection layout (default `'separate'`). */
  qkv?: QkvProjection;
  /** Seed for every initialiser. */
  seed?: number;
}

function checkConfig(c: TransformerConfig): void {
  for (const key of ['vocabSize', 'maxLength', 'width', 'numHeads', 'numLayers'] as const) {
    if (!Number.isInteger(c[key]) || c[key] < 1) {
      throw new LoraConfigError(`TransformerConfig.${key} must be a positive integer; found ${c[key]}.`, {
        field: key,
      });
    }
  }
  if (c.width % c.numHeads !== 0) {
    throw new LoraConfigError(`TransformerConfig.width (${c.width}) must be a multiple of numHeads (${c.numHeads}).`, {
      field: 'width',
    });
  }
}

/**
 * The shared trunk: ids → embeddings (`wte`, `wpe`) → blocks `h.<i>` → LayerNorm. Pre-LN (GPT-2) ends with
 * `ln_f`; post-LN (BERT, DistilBERT) normalises the embeddings instead (`ln_emb`).
 */
export function transformerTrunk(
  ids: tfl.SymbolicTensor,
  config: TransformerConfig,
  options: { causal: boolean; norm?: 'pre' | 'post' },
): tfl.SymbolicTensor {
  checkConfig(config);
  const { vocabSize, maxLength, width, numHeads, numLayers, qkv, seed } = config;
  const norm = options.norm ?? 'pre';
  const ln = (name: string) => new LayerNorm({ name, epsilon: 1e-5 });
  let h = tokenAndPositionEmbedding(ids, { vocabSize, maxLength, width, seed });
  if (norm === 'post') h = ln('ln_emb').apply(h) as tfl.SymbolicTensor;
  for (let i = 0; i < numLayers; i++) {
    h = transformerBlock(h, {
      name: `h.${i}`,
      numHeads,
      mlpDim: config.mlpDim ?? 4 * width,
      causal: options.causal,
      qkv,
      norm,
      seed: seed === undefined ? undefined : seed + 100 * (i + 1),
    });
  }
  return norm === 'pre' ? (ln('ln_f').apply(h) as tfl.SymbolicTensor) : h;
}

/**
 * A decoder-only (GPT-style, pre-LN, causal) language model: int32 ids [batch, time] (any time ≤
 * maxLength) → next-token logits [batch, time, vocabSize] from Dense `lm_head`. Layer names follow GPT-2
 * (`wte`, `wpe`, `h.<i>.attn.*`, `h.<i>.mlp.*`, `ln_f`), so PEFT-style targets apply directly.
 */
export function transformerLM(config: TransformerConfig): tfl.LayersModel {
  const ids = tfl.input({ shape: [null], dtype: 'int32', name: 'ids' });
  const h = transformerTrunk(ids, config, { causal: true });
  const seed = config.seed === undefined ? undefined : config.seed + 7;
  const logits = tfl.layers
    .dense({ name: 'lm_head', units: config.vocabSize, kernelInitializer: tfl.initializers.glorotUniform({ seed }) })
    .apply(h);
  return tfl.model({ inputs: ids, outputs: logits as tfl.SymbolicTensor, name: 'transformer_lm' });
}

/** Options of {@link transformerClassifier}. */
export interface TransformerClassifierOptions {
  /** Number of classes (softmax output of Dense `classifier`). */
  numClasses: number;
  /** `'post'` for BERT/DistilBERT-shaped encoders (default), `'pre'` for GPT-2-shaped ones. */
  norm?: 'pre' | 'post';
  /** Causal attention (default false). */
  causal?: boolean;
  /** Adds DistilBERT's Dense `pre_classifier` (width → width, ReLU) before the classifier. */
  preClassifier?: boolean;
  /** Fixed sequence length of the ids input (default: any). */
  length?: number;
}

function classificationHead(
  h: tfl.SymbolicTensor,
  width: number,
  numClasses: number,
  preClassifier: boolean,
  seed?: number,
): tfl.SymbolicTensor {
  let pooled = tfl.layers.globalAveragePooling1d({ name: 'pool' }).apply(h) as tfl.SymbolicTensor;
  const init = (i: number) => tfl.initializers.glorotUniform({ seed: seed === undefined ? undefined : seed + i });
  if (preClassifier) {
    pooled = tfl.layers
      .dense({ name: 'pre_classifier', units: width, activation: 'relu', kernelInitializer: init(1) })
      .apply(pooled) as tfl.SymbolicTensor;
  }
  return tfl.layers
    .dense({ name: 'classifier', units: numClasses, activation: 'softmax', kernelInitializer: init(2) })
    .apply(pooled) as tfl.SymbolicTensor;
}

/**
 * A transformer encoder classifier: the trunk (post-LN by default, like BERT and DistilBERT), hidden states
 * mean-pooled over time (`pool`), optionally DistilBERT's `pre_classifier`, and Dense `classifier` (softmax).
 */
export function transformerClassifier(
  config: TransformerConfig,
  options: TransformerClassifierOptions,
): tfl.LayersModel {
  const ids = tfl.input({ shape: [options.length ?? null], dtype: 'int32', name: 'ids' });
  const h = transformerTrunk(ids, config, { causal: options.causal ?? false, norm: options.norm ?? 'post' });
  const probs = classificationHead(h, config.width, options.numClasses, options.preClassifier ?? false, config.seed);
  return tfl.model({ inputs: ids, outputs: probs, name: 'transformer_classifier' });
}

/**
 * A sequence classifier on the trunk of an existing {@link transformerLM} (its layers are shared, weights
 * and all): the final hidden states `ln_f` are mean-pooled (`pool`) and a new Dense `classifier` (softmax)
 * gives class probabilities. Batched ids need one fixed length.
 */
export function classifierFromLM(
  lm: tfl.LayersModel,
  numClasses: number,
  options: { seed?: number } = {},
): tfl.LayersModel {
  const trunk = lm.getLayer('ln_f').output as tfl.SymbolicTensor;
  const width = trunk.shape[trunk.shape.length - 1] as number;
  const probs = classificationHead(trunk, width, numClasses, false, options.seed);
  return tfl.model({ inputs: lm.inputs, outputs: probs, name: 'transformer_classifier' });
}
