// The CUDA and cuDNN libraries that libtensorflow opens at run time (2.9, the one @tensorflow/tfjs-node-gpu
// 4.22 downloads; 2.21, the GPU wheel build:native:gpu builds against), and a probe through the real dynamic
// loader for the ones that are missing.

/**
 * Shared libraries libtensorflow 2.9.1 GPU loads with `dlopen` when it starts: CUDA 11.2 (runtime and
 * math libraries, soname `.so.11`/`.so.10`), cuDNN 8.1 (`libcudnn.so.8`) and the NVIDIA driver's
 * `libcuda.so.1`. When one is missing TensorFlow only logs it and runs on the CPU.
 */
export const CUDA_LIBRARIES: readonly string[] = [
  'libcuda.so.1',
  'libcudart.so.11.0',
  'libcublas.so.11',
  'libcublasLt.so.11',
  'libcufft.so.10',
  'libcurand.so.10',
  'libcusolver.so.11',
  'libcusparse.so.11',
  'libcudnn.so.8',
];

/** The versions tfjs-node-gpu 4.22 needs, in words (for messages and the README). */
export const CUDA_REQUIREMENT =
  'libtensorflow 2.9.1 (tfjs-node-gpu 4.22) needs CUDA 11.2 (11.x, soname .so.11) and cuDNN 8.1 (8.x), plus the NVIDIA driver (libcuda.so.1)';

/**
 * Shared libraries TensorFlow 2.18 and later (2.21.0 is what `build:native:gpu` builds against, from the
 * `tensorflow` wheel and its [and-cuda] NVIDIA wheels) opens when it starts: CUDA 12 (soname `.so.12`; cuFFT
 * `.so.11`, cuRAND `.so.10`, cuSOLVER `.so.11`), cuDNN 9 and the NVIDIA driver's `libcuda.so.1`.
 */
export const CUDA12_LIBRARIES: readonly string[] = [
  'libcuda.so.1',
  'libcudart.so.12',
  'libcublas.so.12',
  'libcublasLt.so.12',
  'libcufft.so.11',
  'libcurand.so.10',
  'libcusolver.so.11',
  'libcusparse.so.12',
  'libcudnn.so.9',
];

/** The versions TensorFlow 2.21 (build:native:gpu) needs, in words. */
export const CUDA12_REQUIREMENT =
  'TensorFlow 2.21 (build:native:gpu) needs CUDA 12.5+ (soname .so.12; the nvidia-*-cu12 wheels of its [and-cuda] extra) and cuDNN 9.3+ (9.x), plus the NVIDIA driver (libcuda.so.1)';

/** What the TensorFlow inside a loaded binding needs on the GPU, by its version (`binding.TF_Version`). */
export interface CudaRequirements {
  /** Shared libraries it opens at start-up (probe them with {@link missingSharedLibraries}). */
  libraries: readonly string[];
  /** The CUDA and cuDNN versions, in words. */
  requirement: string;
  /** The oldest NVIDIA driver that runs it, in words. */
  driver: string;
}

/**
 * The CUDA/cuDNN libraries and versions for the TensorFlow a binding reports: 2.18 and later (the 2.21
 * wheel of build:native:gpu) need CUDA 12 and cuDNN 9; older ones are taken as tfjs-node-gpu 4.22's own
 * libtensorflow 2.9.1 (CUDA 11.2, cuDNN 8.1).
 */
export function cudaRequirementsFor(tensorflowVersion: string): CudaRequirements {
  const [major = 0, minor = 0] = tensorflowVersion.split('.').map(Number);
  if (major > 2 || (major === 2 && minor >= 18))
    return {
      libraries: CUDA12_LIBRARIES,
      requirement: CUDA12_REQUIREMENT,
      driver: 'CUDA 12 (>= 525.60.13)',
    };
  return { libraries: CUDA_LIBRARIES, requirement: CUDA_REQUIREMENT, driver: 'CUDA 11 (>= 450.80.02)' };
}

interface DlopenProcess {
  dlopen(module: { exports: unknown }, filename: string): void;
}

/**
 * The libraries of `names` the dynamic loader cannot find (LD_LIBRARY_PATH, ld.so.cache, default
 * folders), found by asking it: `process.dlopen` of a plain library fails with "Module did not
 * self-register" when the file loads, and with "cannot open shared object file" when it does not.
 */
export function missingSharedLibraries(names: readonly string[] = CUDA_LIBRARIES): string[] {
  const proc = (globalThis as { process?: DlopenProcess }).process;
  if (typeof proc?.dlopen !== 'function') return [];
  return names.filter((name) => {
    try {
      proc.dlopen({ exports: {} }, name);
      return false;
    } catch (e) {
      return /cannot open shared object file|image not found|no such file/i.test((e as Error).message);
    }
  });
}
