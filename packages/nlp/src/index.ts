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
export {
  loadMobyDick,
  loadSotu,
  loadSpamAssassin,
  emailText,
  seededRandom,
  randomWindows,
  windowsAt,
  evaluationOffsets,
  type Speech,
  type Email,
  type LmBatch,
} from './text-data.js';
export {
  nextTokenLoss,
  trainLanguageModel,
  perplexity,
  type LmTrainingOptions,
  type LmTrainingResult,
} from './lm-training.js';
export { generate, sampleToken, contextLength, type GenerateOptions } from './generate.js';
export { modelFiles, modelFromFiles, saveModelFiles, loadModelFiles } from './model-files.js';
export { loadMobyDickLM, MOBY_DICK_LM_URL, type PretrainedInfo } from './pretrained.js';
export {
  runStyleAdaptation,
  formatStyleTable,
  splitSpeeches,
  type StyleMethod,
  type StyleAdaptationOptions,
  type StyleProgress,
  type StyleAdaptationRow,
  type StyleAdaptationResult,
} from './style-adaptation.js';
export {
  runSpamClassification,
  formatSpamTable,
  type SpamMethod,
  type SpamClassificationOptions,
  type SpamClassificationRow,
  type SpamClassificationResult,
} from './spam-classifier.js';
