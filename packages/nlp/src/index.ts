// @tfjs-lora/nlp: the text layer kinds (Embedding, MergedDense), the layers and transformer architectures
// they serve, PEFT name maps, mixed-adapter batches, and character-LM training and sampling. Datasets and
// the experiments are behind `@tfjs-lora/nlp/experiments`. Importing this entry registers the layer kinds.
import './register-on-import.js';

export { registerNlpLayerKinds, nlpLayerKinds } from './register.js';
export { embeddingAdapter, mergedDenseAdapter, nlpAdapters, registerNlpAdapters, dotLast } from './deprecated.js';
export { embeddingLayerKind, embeddingRows, initEmbeddingFactors, toIds } from './embedding-layer-kind.js';
export { MergedDense, type MergedDenseArgs } from './merged-dense.js';
export { mergedDenseLayerKind } from './merged-dense-layer-kind.js';
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
  denseRows,
  registerPerRowLora,
  requirePerRowLora,
  type MixedAdapterView,
  type PerRowLora,
  type PerRowLoraArgs,
} from './deprecated.js';
export { CharTokenizer } from './char-tokenizer.js';
export { randomWindows, windowsAt, evaluationOffsets, type LmBatch } from './text-windows.js';
export { lmInputs } from './lm-inputs.js';
export {
  nextTokenLoss,
  trainLanguageModel,
  perplexity,
  perplexityAsync,
  type PerplexityOptions,
  type LmTrainingOptions,
  type LmTrainingResult,
} from './lm-training.js';
export { generate, generateAsync, sampleToken, contextLength, type GenerateOptions } from './generate.js';
export { hfTextFormat, registerHfTextFormat, buildHfTextModel, type HfTextOptions } from './hf/format.js';
export { HF_TEXT_ARCHITECTURES, type HfTextArchitecture } from './hf/config.js';
export { TokenPooling, type TokenPoolingArgs } from './hf/token-pooling.js';
export {
  loadTokenizer,
  HfTokenizer,
  type TokenizerEncoding,
  type TokenizedBatch,
  type EncodeBatchOptions,
} from './hf/tokenizer.js';
export { loadMobyDickLM, MOBY_DICK_LM_URL, type PretrainedInfo } from './pretrained.js';
