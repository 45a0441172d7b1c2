// @tfjs-lora/core/math: the building blocks layer kinds and backends are written with: the LoRA/DoRA
// forward (fused-kernel contract and its composed reference), initialisation, SVD, adapter combination,
// the helpers a layer kind uses to reach its layer's weights, and withCleanup (state set for one call).
export { svd, svdAsync, svdLowRank } from '../svd.js';
export { initDenseLora, kaimingUniform, type DenseLoraInit } from '../init.js';
export {
  checkLoraMatMulArgs,
  composedLoraMatMul,
  composedMultiAdapterMatMul,
  customGradLoraMatMul,
  type LoraMatMulPrimitives,
  type MatMulPairOptions,
} from '../kernels.js';
export { loraLinear, recordingGradients, type LoraLinearArgs } from '../lora-linear.js';
export { doraLinear, type DoraLinearArgs } from '../dora-linear.js';
export { combineFactors, type Combination } from '../weighted-adapter.js';
export { stopGradient, doraMergedWeight, dotLast } from '../math.js';
export { weightByName, requireWeight, applyConfiguredActivation } from '../layer-weights.js';
export { doraVariant } from '../dora-variant.js';
export { loraVariant } from '../lora-variant.js';
export { withCleanup } from '../cleanup.js';
export { mixedBatchForward, type MixedBatch, type MixedBatchTarget } from '../mixed-batch.js';
export {
  denseRows,
  stackFactors,
  composedRows,
  useMaskedForm,
  useMaskedRows,
  rowScalings,
  oneHotRows,
  perRow,
  maskedUp,
  type PerRowLora,
  type PerRowLoraArgs,
  type PerRowStrategy,
} from '../per-row-lora.js';
export { canReadSync, requireSyncRead } from '../sync-read.js';
