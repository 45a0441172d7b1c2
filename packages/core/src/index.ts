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
  composedLoraMatMul,
  composedMultiAdapterMatMul,
  type LoraKernels,
  type LoraMatMulArgs,
  type MultiAdapterMatMulArgs,
} from './kernels.js';
export {
  registerLayerAdapter,
  listLayerAdapters,
  findLayerAdapter,
  requireLayerAdapter,
  type LayerAdapter,
  type Layer,
  type FactorInit,
  type FactorName,
} from './layer-adapter.js';
export { denseAdapter, weightByName, requireWeight, applyConfiguredActivation } from './dense-adapter.js';
export { LoraLayer, checkAdapterName, type LoraAdapterSpec, type LoraLayerArgs, type AdapterWeights } from './lora-layer.js';
export { LoraModel, applyLora, type ApplyLoraOptions, type ParameterCount } from './lora-model.js';
export { combineFactors, type Combination } from './weighted-adapter.js';
export { LoraPlusOptimizer, loraPlusOptimizer, isLoraB, type LoraPlusOptions } from './lora-plus.js';
export { stopGradient, doraMergedWeight } from './math.js';
