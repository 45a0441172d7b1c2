import './register.js';

export {
  cudaBackend,
  nativeBackend,
  registerNativeBackends,
  registerCudaBackend,
  registerNativeBackend,
  nativeBindingStatus,
  cudaBindingStatus,
  type CudaBackendOptions,
  type NativeBackendsOptions,
} from './native-backends.js';
export {
  loadNativeBinding,
  loadedNativeBinding,
  locateNativePackage,
  findNativeCacheDir,
  NATIVE_PACKAGES,
  type NativeFlavor,
  type NativeBindingOptions,
  type NativeBindingStatus,
  type NodeKernelBackend,
} from './native-binding.js';
export {
  classifyLoadError,
  missingLibraryIn,
  BUILD_NATIVE_COMMAND,
  type UnavailableKind,
} from './unavailable-reason.js';
export {
  CUDA_LIBRARIES,
  CUDA_REQUIREMENT,
  CUDA12_LIBRARIES,
  CUDA12_REQUIREMENT,
  cudaRequirementsFor,
  missingSharedLibraries,
  type CudaRequirements,
} from './cuda-libraries.js';
export { nativeLoraMatMul } from './lora-matmul.js';
export { stepConfig, registerFasterStep } from './kernels/Step.js';
