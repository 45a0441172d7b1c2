// @tfjs-lora/nlp: the text layer kinds (Embedding, MergedDense), the layers and transformer architectures
// they serve, PEFT name maps, mixed-adapter batches, and character-LM training and sampling. Datasets and
// the experiments are behind `@tfjs-lora/nlp/experiments`. Importing this entry registers the layer kinds.
import './register-on-import.js';

export { registerNlpAdapters, nlpAdapters } from './register.js';
export { embeddingAdapter, initEmbeddingFactors, toIds } from './embedding-adapter.js';
export { MergedDense, dotLast, type MergedDenseArgs } from './merged-dense.js';
export { mergedDenseAdapter } from './merged-dense-adapter.js';
export { ScaledDotProductAttention, causalMask, type ScaledDotProductAttentionArgs } from './attention-layer.js';
export { PositionEmbedding, type PositionEmbeddingArgs } from './position-embedding.js';
export { LayerNorm, type LayerNormArgs } from './layer-norm.js';
export { multiHeadAttention, type MultiHeadAttentionOptions, type QkvProjection } from './multi-head-attention.js';
export {
  transformerBlock,
  tokenAndPositionEmbedding,
  transformerTrunk,
  transformerLM,
  transformerClassifier,
  classifierFromLM,
  type TransformerBlockOptions,
  type TokenAndPositionEmbeddingOptions,
  type TransformerConfig,
  type TransformerClassifierOptions,
} from './transformer.js';
export { peftModuleMap, peftPathToLayer, type PeftModelFamily, type PeftModuleMapOptions } from './name-maps.js';
export {
  BASE_ADAPTER,
  PerRowLoraLayer,
  mixedAdapterView,
  predictWithAdapters,
  predictLoopingAdapters,
  type MixedAdapterView,
} from './mixed-batch.js';
export {
  denseRows,
  embeddingRows,
  registerPerRowLora,
  requirePerRowLora,
  type PerRowLora,
  type PerRowLoraArgs,
} from './per-row-lora.js';
export { CharTokenizer } from './char-tokenizer.js';
export { randomWindows, windowsAt, evaluationOffsets, type LmBatch } from './text-windows.js';
export {
  nextTokenLoss,
  trainLanguageModel,
  perplexity,
  type LmTrainingOptions,
  type LmTrainingResult,
} from './lm-training.js';
export { generate, sampleToken, contextLength, type GenerateOptions } from './generate.js';
export { loadMobyDickLM, MOBY_DICK_LM_URL, type PretrainedInfo } from './pretrained.js';
