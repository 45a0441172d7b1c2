// The CUDA and cuDNN libraries that libtensorflow 2.9 (the one @tensorflow/tfjs-node-gpu 4.22 downloads)
// opens at run time, and a probe through the real dynamic loader for the ones that are missing.

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
