// The two LoRA backends over the native TensorFlow binding: 'cuda' (@tensorflow/tfjs-node-gpu on an
// NVIDIA GPU) and 'native' (the same binding on the CPU, from @tensorflow/tfjs-node).
import { registerLoraBackend, type Availability, type LoraBackend } from '@tfjs-lora/core';
import { cudaRequirementsFor, missingSharedLibraries } from './cuda-libraries.js';
import { registerFasterStep } from './kernels/Step.js';
import { nativeLoraMatMul } from './lora-matmul.js';
import {
  loadedNativeBinding,
  loadNativeBinding,
  type NativeBindingOptions,
  type NativeBindingStatus,
} from './native-binding.js';

/** Options of the 'cuda' backend. */
export interface CudaBackendOptions extends Omit<NativeBindingOptions, 'flavor'> {
  /**
   * Accept a binding that runs on the CPU (tests only: runs the 'cuda' code path on a CPU build of the
   * binding). Default: `TFJS_LORA_CUDA_ALLOW_CPU=1`.
   */
  allowCpuDevice?: boolean;
  /** Libraries probed when TensorFlow sees no GPU (default: those of the loaded TensorFlow, {@link cudaRequirementsFor}). */
  cudaLibraries?: readonly string[];
}

/** Options of {@link registerNativeBackends}. */
export interface NativeBackendsOptions {
  /** Where the 'native' backend finds @tensorflow/tfjs-node. */
  native?: Omit<NativeBindingOptions, 'flavor'>;
  /** Where the 'cuda' backend finds @tensorflow/tfjs-node-gpu, and what it accepts. */
  cuda?: CudaBackendOptions;
}

let options: NativeBackendsOptions = {};

function env(name: string): string | undefined {
  return (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[name];
}

/** The 'cuda' availability with its kind (what `cudaBackend.isAvailable()` reports, plus why in one word). */
export async function cudaBindingStatus(opts: CudaBackendOptions = options.cuda ?? {}): Promise<NativeBindingStatus> {
  const status = await loadNativeBinding({ ...opts, flavor: 'gpu' });
  if (!status.ok || status.gpu) return status;
  if (status.flavor !== 'gpu') {
    return {
      ...status,
      ok: false,
      kind: 'load-failed',
      reason: `the 'tensorflow' backend in this process comes from ${status.packageName} (CPU only); 'cuda' needs @tensorflow/tfjs-node-gpu loaded first`,
    };
  }
  if (opts.allowCpuDevice ?? env('TFJS_LORA_CUDA_ALLOW_CPU') === '1') return status;
  const where = `${status.packageName} loaded (${status.packageDir}, TensorFlow ${status.tensorflowVersion}) but TensorFlow sees no GPU`;
  const needs = cudaRequirementsFor(status.tensorflowVersion);
  const missing = missingSharedLibraries(opts.cudaLibraries ?? needs.libraries);
  if (missing.length > 0) {
    return {
      ...status,
      ok: false,
      kind: 'library-missing',
      reason: `${where}: the dynamic loader cannot find ${missing.join(', ')}. ${needs.requirement}; install them and put their folder on LD_LIBRARY_PATH`,
    };
  }
  const visible = env('CUDA_VISIBLE_DEVICES');
  return {
    ...status,
    ok: false,
    kind: 'no-gpu',
    reason:
      `${where}, although the CUDA and cuDNN libraries load. Check that nvidia-smi lists a GPU, that the driver supports ${needs.driver}, ` +
      `and CUDA_VISIBLE_DEVICES (${visible === undefined ? 'unset' : `'${visible}'`}); a binding built against CPU libtensorflow never sees one`,
  };
}

function availability(status: NativeBindingStatus): Availability {
  return status.ok ? { ok: true } : { ok: false, reason: status.reason };
}

/**
 * The 'cuda' LoRA backend: tfjs's 'tensorflow' backend from @tensorflow/tfjs-node-gpu (an optional peer,
 * loaded on first use), available only when the binding loads and TensorFlow reports a GPU device.
 * Priority 60, above every other backend. Supplies {@link nativeLoraMatMul} and a faster `Step`.
 */
export const cudaBackend: LoraBackend = {
  name: 'cuda',
  tfBackend: 'tensorflow',
  priority: 60,
  async isAvailable() {
    return availability(await cudaBindingStatus());
  },
  async init() {
    registerFasterStep();
  },
  kernels: { loraMatMul: nativeLoraMatMul },
};

/**
 * The 'native' LoRA backend: tfjs's 'tensorflow' backend from @tensorflow/tfjs-node on the CPU (native
 * speed on servers without GPUs; an optional peer, loaded on first use). When 'cuda' already loaded
 * tfjs-node-gpu in this process, 'native' uses that binding. Priority 20: above wasm (10), below GPUs.
 */
export const nativeBackend: LoraBackend = {
  name: 'native',
  tfBackend: 'tensorflow',
  priority: 20,
  async isAvailable() {
    const owned = loadedNativeBinding();
    if (owned?.ok && owned.flavor === 'gpu') return { ok: true };
    return availability(await loadNativeBinding({ ...options.native, flavor: 'cpu' }));
  },
  async init() {
    registerFasterStep();
  },
  kernels: { loraMatMul: nativeLoraMatMul },
};

/**
 * Whether the 'native' backend is usable here: `{ok: true}` or `{ok: false, reason}` (loads the binding
 * on first call; never throws). For benchmarks and scripts deciding whether to add a native column.
 */
export async function nativeBindingStatus(): Promise<Availability> {
  return nativeBackend.isAvailable();
}

/**
 * Registers the 'cuda' and 'native' LoRA backends with core (done on import of this package; call it
 * when a bundler drops side effects, or to pass options, which apply from the next availability check).
 * Nothing native is loaded until a backend's availability is asked.
 */
export function registerNativeBackends(opts: NativeBackendsOptions = {}): { cuda: LoraBackend; native: LoraBackend } {
  options = { native: { ...options.native, ...opts.native }, cuda: { ...options.cuda, ...opts.cuda } };
  registerLoraBackend(cudaBackend);
  registerLoraBackend(nativeBackend);
  return { cuda: cudaBackend, native: nativeBackend };
}

/** Registers only the 'cuda' backend (see {@link registerNativeBackends}). */
export function registerCudaBackend(opts: CudaBackendOptions = {}): LoraBackend {
  options = { ...options, cuda: { ...options.cuda, ...opts } };
  registerLoraBackend(cudaBackend);
  return cudaBackend;
}

/** Registers only the 'native' backend (see {@link registerNativeBackends}). */
export function registerNativeBackend(opts: Omit<NativeBindingOptions, 'flavor'> = {}): LoraBackend {
  options = { ...options, native: { ...options.native, ...opts } };
  registerLoraBackend(nativeBackend);
  return nativeBackend;
}
