// @tfjs-lora/core's root entry: the contract plugins implement and the API everyday code calls. Everything
// else is behind a documented subpath (see README.md "Subpath exports" and src/entries/). Every name here is
// a promise to keep: surface.test.ts caps the runtime names at 60.
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
export type { LoraKernels, LoraMatMulArgs, MultiAdapterMatMulArgs } from './kernels.js';
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
export type { DoraVariant, DoraVariantOptions, DoraFusedArgs } from './dora-variant.js';
export type { LoraVariant, VariantTarget, ComposedTerms } from './lora-variant.js';
export { denseLayerKind, denseAdapter } from './dense-layer-kind.js';
export { LoraLayer } from './lora-layer.js';
export { checkAdapterName, type LoraAdapterSpec, type LoraLayerArgs, type AdapterWeights } from './lora-layer-state.js';
export { LoraModel } from './lora-model.js';
export { ensureLayersConfigFixes } from './layers-config-fixes.js';
export type { ParameterCount } from './inject.js';
export { applyLora, applyPeftAdapter, type ApplyLoraOptions } from './apply-lora.js';
export {
  registerModelKind,
  listModelKinds,
  type ModelKind,
  type LoraModelKinds,
  type LoraModelFor,
  type LoraTargetModel,
  type TrainableModel,
  type PeftExportable,
} from './model-kind.js';
export {
  loadPretrained,
  registerModelFormat,
  listModelFormats,
  type ModelFormat,
  type ModelFiles,
  type PretrainedModels,
  type PretrainedModel,
  type PretrainedSource,
  type LoadPretrainedOptions,
} from './pretrained/door.js';
export { BASE_ADAPTER } from './mixed-batch.js';
export { predictWithAdapters, predictLoopingAdapters } from './mixed-batch-predict.js';
export {
  createTrainStep,
  train,
  evaluateLoss,
  resolveLoss,
  type TrainStep,
  type TrainableTarget,
  type TrainStepOptions,
  type TrainOptions,
  type TrainHistory,
  type BatchEnd,
  type EpochEnd,
  type LossFunction,
  type LossName,
} from './train-step.js';
export { LoraPlusOptimizer, loraPlusOptimizer, isLoraB, type LoraPlusOptions } from './lora-plus.js';
export type { PeftAdapter, PeftAdapterInput, PeftLoraModule, PeftModuleWeights } from './peft/adapter.js';
export type { PeftAdapterFiles } from './peft/files.js';
export type { ModuleMap, ModuleMapping, PeftLoadOptions } from './peft/module-map.js';
export type { PeftLoadReport, PeftSource } from './peft/plan.js';
export { loadPeftAdapter, type PeftAdapterSource } from './peft/load.js';
export {
  savePeftAdapter,
  type PeftSaveable,
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
