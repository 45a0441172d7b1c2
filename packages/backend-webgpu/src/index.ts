import './self-register.js';

export {
  webgpuBackend,
  registerWebgpuBackend,
  webgpuAdapterReport,
  disposeWebgpuBackend,
  webgpuKernels,
  WEBGPU_PRIORITY,
} from './webgpu-backend.js';
export {
  resolveWebgpuOptions,
  ENV,
  type WebgpuBackendOptions,
  type ResolvedWebgpuOptions,
  type DawnBackend,
  type FeatureLevel,
} from './options.js';
export { describeAdapter, type WebgpuAdapterReport } from './adapter-report.js';
export { webgpuLoraMatMul, runLoraMatMul } from './ops/lora-matmul.js';
export { webgpuMultiAdapterMatMul } from './ops/multi-adapter-matmul.js';
export { registerWebgpuKernels, webgpuKernelConfigs } from './register-kernels.js';
export { loraMatMulConfig, LORA_MATMUL, type LoraMatMulInputs, type LoraMatMulAttrs } from './kernels/lora-matmul.js';
export {
  bgmvShrinkConfig,
  LORA_BGMV_SHRINK,
  type BgmvShrinkInputs,
  type BgmvShrinkAttrs,
} from './kernels/bgmv-shrink.js';
export {
  bgmvExpandConfig,
  LORA_BGMV_EXPAND,
  type BgmvExpandInputs,
  type BgmvExpandAttrs,
} from './kernels/bgmv-expand.js';
export { LoraMatMulProgram, lowRankTile, type LoraMatMulShape } from './programs/lora-matmul-program.js';
export { BgmvShrinkProgram } from './programs/bgmv-shrink-program.js';
export { BgmvExpandProgram } from './programs/bgmv-expand-program.js';
