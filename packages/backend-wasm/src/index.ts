import './register.js';

export {
  wasmBackend,
  registerWasmBackend,
  nodeWasmFolder,
  wasmThreadsCount,
  wasmThreadsPlan,
  type WasmBackendOptions,
  type WasmPaths,
} from './wasm-backend.js';
export {
  registerTrainingKernels,
  trainingKernelConfigs,
  registerFasterKernels,
  fasterKernelConfigs,
} from './register-kernels.js';
export { conv2DBackpropFilter, conv2DBackpropFilterConfig } from './kernels/Conv2DBackpropFilter.js';
export {
  depthwiseConv2dNativeBackpropInput,
  depthwiseConv2dNativeBackpropInputConfig,
} from './kernels/DepthwiseConv2dNativeBackpropInput.js';
export {
  depthwiseConv2dNativeBackpropFilter,
  depthwiseConv2dNativeBackpropFilterConfig,
} from './kernels/DepthwiseConv2dNativeBackpropFilter.js';
export { unsortedSegmentSum, unsortedSegmentSumConfig } from './kernels/UnsortedSegmentSum.js';
export { conv2DBackpropInput, conv2DBackpropInputConfig } from './kernels/Conv2DBackpropInput.js';
export { batchMatMul, batchMatMulConfig } from './kernels/BatchMatMul.js';
export { maxPoolGrad, maxPoolGradConfig } from './kernels/MaxPoolGrad.js';
export { transpose, transposeConfig } from './kernels/Transpose.js';
export { identity, identityConfig } from './kernels/Identity.js';
export { slice, sliceConfig } from './kernels/Slice.js';
export { gatherV2, gatherV2Config } from './kernels/GatherV2.js';
export { clearTransposeCache, transposeCacheStats, setTransposeCacheEnabled } from './kernels/transpose-cache.js';
export { useNodeThreads, createThreadedBackend, threadedFiles, type ThreadedFiles } from './threads/node-threads.js';
export {
  useBrowserThreads,
  resolveBrowserThreads,
  browserThreadsPlan,
  withHardwareConcurrency,
  MAX_WASM_THREADS,
  type BrowserThreadsInput,
  type BrowserThreadsPlan,
} from './threads/browser-threads.js';
