import * as tf from '@tensorflow/tfjs-core';
import { LoraError, registerLoraBackend, type Availability, type LoraBackend } from '@tfjs-lora/core';
import { registerFasterKernels, registerTrainingKernels } from './register-kernels.js';

/** Where the wasm binaries are: a folder (ending in '/') or a map from binary name to URL/path. */
export type WasmPaths = string | Record<string, string>;

/** Options of {@link registerWasmBackend}. */
export interface WasmBackendOptions {
  /**
   * Folder or per-file map of the `.wasm` binaries (tfjs `setWasmPaths`). Default: in Node, the `dist/`
   * folder of the installed @tensorflow/tfjs-backend-wasm; in a browser, tfjs's default (next to the
   * script), which bundlers break: serve the three `.wasm` files and pass their folder's URL here.
   */
  wasmPaths?: WasmPaths;
  /** Load the binaries with the platform's `fetch` (tfjs `setWasmPaths(…, usePlatformFetch)`). */
  usePlatformFetch?: boolean;
  /**
   * Replace tfjs-backend-wasm's slow `Conv2DBackpropInput`, transposed `BatchMatMul` and `MaxPoolGrad`
   * with faster ones at `init()` (default true; see {@link registerFasterKernels}).
   */
  fasterKernels?: boolean;
}

const WASM_BINARIES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'];

let options: WasmBackendOptions = {};

function nodeVersion(): string | undefined {
  return (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node;
}

interface NodeModuleApi {
  createRequire(url: string): { resolve(id: string): string };
}
interface NodeFsApi {
  existsSync(path: string): boolean;
}

/** Imports a Node built-in without making bundlers for the browser resolve it. */
async function nodeBuiltin<T>(name: string): Promise<T> {
  const specifier = `node:${name}`;
  return (await import(/* @vite-ignore */ specifier)) as T;
}

/** In Node, the folder holding the installed package's `.wasm` files, ending in a path separator. */
export async function nodeWasmFolder(): Promise<string> {
  const { createRequire } = await nodeBuiltin<NodeModuleApi>('module');
  const main = createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm');
  return main.slice(0, Math.max(main.lastIndexOf('/'), main.lastIndexOf('\\')) + 1);
}

async function missingNodeBinaries(paths: WasmPaths): Promise<string[]> {
  const { existsSync } = await nodeBuiltin<NodeFsApi>('fs');
  const files = typeof paths === 'string' ? WASM_BINARIES.map((f) => paths + f) : Object.values(paths);
  return files.filter((f) => !/^[a-z]+:\/\//i.test(f) && !existsSync(f));
}

/**
 * The 'wasm' LoRA backend: @tensorflow/tfjs-backend-wasm (SIMD, XNNPACK) plus the training kernels it
 * lacks (`Conv2DBackpropFilter`, `DepthwiseConv2dNativeBackpropInput/Filter`, `UnsortedSegmentSum`).
 * Priority 10: above cpu (0), below GPU backends.
 */
export const wasmBackend: LoraBackend = {
  name: 'wasm',
  tfBackend: 'wasm',
  priority: 10,
  async isAvailable(): Promise<Availability> {
    if (typeof WebAssembly !== 'object' || typeof WebAssembly.instantiate !== 'function') {
      return { ok: false, reason: 'WebAssembly is not available in this JavaScript environment' };
    }
    try {
      await import('@tensorflow/tfjs-backend-wasm');
    } catch (e) {
      return { ok: false, reason: `@tensorflow/tfjs-backend-wasm could not be imported (${(e as Error).message}); install it (4.22, a peer dependency)` };
    }
    if (nodeVersion() !== undefined) {
      try {
        const paths = options.wasmPaths ?? (await nodeWasmFolder());
        const missing = await missingNodeBinaries(paths);
        if (missing.length > 0) {
          return { ok: false, reason: `the wasm binaries are missing: ${missing.join(', ')}; reinstall @tensorflow/tfjs-backend-wasm or pass wasmPaths` };
        }
      } catch (e) {
        return { ok: false, reason: `the wasm binaries could not be located (${(e as Error).message}); pass wasmPaths to registerWasmBackend()` };
      }
    }
    return { ok: true };
  },
  async init(): Promise<void> {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    registerTrainingKernels();
    if (options.fasterKernels !== false) registerFasterKernels();
    if (tf.engine().registry['wasm']) return; // already initialised by someone else: paths no longer matter
    const paths = options.wasmPaths ?? (nodeVersion() !== undefined ? await nodeWasmFolder() : undefined);
    if (paths !== undefined) wasm.setWasmPaths(paths, options.usePlatformFetch ?? false);
  },
};

/**
 * Registers the 'wasm' LoRA backend with core (done on import of this package; call it yourself when a
 * bundler drops side effects, or to pass options) and its training kernels with tfjs. Options apply
 * to the next initialisation; passing them after `useBackend` has initialised wasm throws.
 */
export function registerWasmBackend(opts: WasmBackendOptions = {}): LoraBackend {
  if ((opts.wasmPaths !== undefined || opts.usePlatformFetch !== undefined || opts.fasterKernels !== undefined) && tf.engine().registry['wasm']) {
    throw new LoraError(
      `registerWasmBackend(options): the wasm backend is already initialised, so its options can no longer change. ` +
        `Expected the call before useBackend()/tf.setBackend('wasm'); found it after. Call it first.`,
    );
  }
  options = { ...options, ...opts };
  registerTrainingKernels();
  registerLoraBackend(wasmBackend);
  return wasmBackend;
}
