export * from './errors/index.js';
export {
  loraConfig,
  toPeftJson,
  fromPeftJson,
  scalingFor,
  rankFor,
  alphaFor,
  type LoraConfig,
  type LoraConfigInput,
  type InitLoraWeights,
  type BiasMode,
  type ModuleSelector,
} from './config.js';
export { selectTargets, matchesSelector, layerIndexOf, type LayerInfo } from './target-match.js';
export { svd, svdLowRank } from './svd.js';
export { initDenseLora, kaimingUniform, type DenseLoraInit } from './init.js';
export {
  registerLoraBackend,
  unregisterLoraBackend,
  listLoraBackends,
  getLoraBackend,
  useBackend,
  activeLoraBackend,
  activeKernels,
  cpuBackend,
  type LoraBackend,
  type Availability,
} from './backend.js';
export {
  checkLoraMatMulArgs,
  composedLoraMatMul,
  composedMultiAdapterMatMul,
  customGradLoraMatMul,
  type LoraMatMulPrimitives,
  type MatMulPairOptions,
  type LoraKernels,
  type LoraMatMulArgs,
  type MultiAdapterMatMulArgs,
} from './kernels.js';
export {
  registerLayerKind,
  listLayerKinds,
  findLayerKind,
  requireLayerKind,
  registerLayerAdapter,
  listLayerAdapters,
  findLayerAdapter,
  requireLayerAdapter,
  type LayerKind,
  type LayerAdapter,
  type Layer,
  type FactorInit,
  type FactorName,
  type FusedLoraArgs,
} from './layer-kind.js';
export { doraVariant, type DoraVariant, type DoraVariantOptions, type DoraFusedArgs } from './dora-variant.js';
export { loraVariant, type LoraVariant, type VariantTarget, type ComposedTerms } from './lora-variant.js';
export { loraLinear, recordingGradients, type LoraLinearArgs } from './lora-linear.js';
export { doraLinear, type DoraLinearArgs } from './dora-linear.js';
export {
  createTrainStep,
  train,
  evaluateLoss,
  resolveLoss,
  type TrainStep,
  type TrainStepOptions,
  type TrainOptions,
  type TrainHistory,
  type BatchEnd,
  type EpochEnd,
  type LossFunction,
  type LossName,
} from './train-step.js';
export { denseLayerKind, denseAdapter } from './dense-layer-kind.js';
export { weightByName, requireWeight, applyConfiguredActivation } from './layer-weights.js';
export { LoraLayer } from './lora-layer.js';
export { checkAdapterName, type LoraAdapterSpec, type LoraLayerArgs, type AdapterWeights } from './lora-layer-state.js';
export { LoraModel, applyLora, type ApplyLoraOptions, type ParameterCount } from './lora-model.js';
export {
  BASE_ADAPTER,
  predictWithAdapters,
  predictLoopingAdapters,
  mixedBatchForward,
  type MixedBatch,
  type MixedBatchTarget,
} from './mixed-batch.js';
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
} from './per-row-lora.js';
export { combineFactors, type Combination } from './weighted-adapter.js';
export { LoraPlusOptimizer, loraPlusOptimizer, isLoraB, type LoraPlusOptions } from './lora-plus.js';
export { stopGradient, doraMergedWeight, dotLast } from './math.js';
export {
  parseSafetensors,
  readSafetensors,
  readSafetensorsMetadata,
  safetensorsTensors,
  decodeSafetensorsEntry,
  SAFETENSORS_DTYPES,
  MAX_HEADER_BYTES,
  type SafetensorsDtype,
  type SafetensorsEntry,
  type ParsedSafetensors,
  type DecodedTensorData,
} from './safetensors.js';
export {
  writeSafetensors,
  encodeSafetensors,
  rawSafetensorsInputs,
  type SafetensorsData,
  type SafetensorsTensorInput,
  type WriteSafetensorsOptions,
} from './safetensors-write.js';
export { f16ToF32, bf16ToF32, f32ToF16, f32ToBf16 } from './half.js';
export {
  peftAdapter,
  isPeftAdapter,
  type PeftAdapter,
  type PeftAdapterInput,
  type PeftLoraModule,
  type PeftModuleWeights,
} from './peft/adapter.js';
export {
  factorKey,
  paramKey,
  classifyPeftKey,
  effectiveModulesToSave,
  PEFT_KEY_PREFIX,
  TASK_MODULES_TO_SAVE,
  type PeftKeyRole,
} from './peft/keys.js';
export {
  mapPeftModules,
  normalizeModulePath,
  type ModuleMap,
  type ModuleMapping,
  type PeftLoadOptions,
} from './peft/module-map.js';
export { planPeftLoad, type PeftLoadPlan, type PeftSource } from './peft/plan.js';
export {
  decodePeftAdapter,
  toSingleFile,
  fromSingleFile,
  isSingleFile,
  configText,
  ADAPTER_CONFIG_NAME,
  ADAPTER_WEIGHTS_NAME,
  PEFT_CONFIG_METADATA_KEY,
  type PeftAdapterFiles,
} from './peft/files.js';
export {
  peftArtifacts,
  peftFilesFromArtifacts,
  peftDownloads,
  peftBrowserFiles,
  fetchPeftFiles,
  PEFT_ARTIFACTS_FORMAT,
} from './peft/io.js';
export { loadPeftAdapter, readPeftFiles, type PeftAdapterSource } from './peft/load.js';
export {
  savePeftAdapter,
  encodePeftAdapter,
  type SavePeftOptions,
  type PeftSaveResult,
  type PeftAdapterTarget,
} from './peft/save.js';
export { inspectPeftAdapter, type PeftAdapterSummary, type PeftModuleSummary } from './peft/inspect.js';
export {
  registerPeftWeightLayout,
  findPeftWeightLayout,
  type PeftWeightLayout,
  type PeftParamLayout,
} from './peft/weight-layouts.js';
export { seededRandom, seededValues } from './random.js';
