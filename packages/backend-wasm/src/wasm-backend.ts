import * as tf from '@tensorflow/tfjs-core';
import { LoraError, registerLoraBackend, type Availability, type LoraBackend } from '@tfjs-lora/core';
import { setTransposeCacheEnabled } from './kernels/transpose-cache.js';
import { registerFasterKernels, registerTrainingKernels } from './register-kernels.js';
import {
  browserThreadsPlan,
  MAX_WASM_THREADS,
  type BrowserThreadsPlan,
  useBrowserThreads,
} from './threads/browser-threads.js';
import { useNodeThreads } from './threads/node-threads.js';

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
  /**
   * Keep the transposes of operands that come back (frozen weights' Wᵀ) between BatchMatMul calls,
   * keyed by their buffer (default true; needs `fasterKernels`).
   */
  cacheTransposes?: boolean;
  /**
   * Threads for XNNPACK (1–8), or false for one. Default: in Node, the number of cores
   * (`os.availableParallelism()`, at most 8; threads only where it is above 1), through the threaded
   * build tfjs-backend-wasm ships but does not start in Node; in a browser or worker, one per logical
   * core (`navigator.hardwareConcurrency`, at most 8; threads only where it is above 1), and only where
   * the page is cross-origin isolated (`crossOriginIsolated`, needed for SharedArrayBuffer): elsewhere one
   * thread whatever is asked ({@link wasmThreadsPlan} says why). 1 is the same as false. In both, tfjs's
   * cap of half the logical cores is lifted while the backend initialises.
   */
  threads?: number | false;
}

const WASM_BINARIES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'];

let options: WasmBackendOptions = {};
const MAX_THREADS = MAX_WASM_THREADS;

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

function checkThreads(threads: unknown): void {
  if (
    threads !== undefined &&
    threads !== false &&
    !(Number.isInteger(threads) && (threads as number) >= 1 && (threads as number) <= MAX_THREADS)
  ) {
    throw new LoraError(
      `registerWasmBackend({ threads }): expected false or an integer from 1 to ${MAX_THREADS}; found ${String(threads)}. Pass false for one thread.`,
    );
  }
}

/** The thread count in effect for `threads` (Node: default from the core count; browser: see browser-threads.ts). */
async function resolveThreads(threads: number | false | undefined): Promise<number | false | undefined> {
  if (nodeVersion() === undefined) return browserThreadsPlan(threads).threads;
  if (threads !== undefined) return threads;
  const os = await nodeBuiltin<{ availableParallelism?: () => number; cpus(): unknown[] }>('os');
  const cores = os.availableParallelism?.() ?? os.cpus().length;
  return cores > 1 ? Math.min(cores, MAX_THREADS) : false;
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
      return {
        ok: false,
        reason: `@tensorflow/tfjs-backend-wasm could not be imported (${(e as Error).message}); install it (4.22, a peer dependency)`,
      };
    }
    if (nodeVersion() !== undefined) {
      try {
        const paths = options.wasmPaths ?? (await nodeWasmFolder());
        const missing = await missingNodeBinaries(paths);
        if (missing.length > 0) {
          return {
            ok: false,
            reason: `the wasm binaries are missing: ${missing.join(', ')}; reinstall @tensorflow/tfjs-backend-wasm or pass wasmPaths`,
          };
        }
      } catch (e) {
        return {
          ok: false,
          reason: `the wasm binaries could not be located (${(e as Error).message}); pass wasmPaths to registerWasmBackend()`,
        };
      }
    }
    return { ok: true };
  },
  async init(): Promise<void> {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    registerTrainingKernels();
    if (options.fasterKernels !== false) registerFasterKernels();
    setTransposeCacheEnabled(options.cacheTransposes !== false);
    if (tf.engine().registry['wasm']) return; // already initialised by someone else: paths no longer matter
    const paths = options.wasmPaths ?? (nodeVersion() !== undefined ? await nodeWasmFolder() : undefined);
    if (paths !== undefined) wasm.setWasmPaths(paths, options.usePlatformFetch ?? false);
    const threads = await resolveThreads(options.threads);
    if (nodeVersion() !== undefined) {
      useNodeThreads(wasm, threads ?? false, typeof paths === 'string' ? paths : undefined);
    } else {
      // Asked for threads where they cannot run (not cross-origin isolated): say why, once.
      if (typeof options.threads === 'number' && options.threads > 1 && threads === false)
        console.warn(`@tfjs-lora/backend-wasm: ${browserThreadsPlan(options.threads).reason}`);
      useBrowserThreads(wasm, threads ?? false);
    }
  },
};

/**
 * Registers the 'wasm' LoRA backend with core (done on import of this package; call it yourself when a
 * bundler drops side effects, or to pass options) and its training kernels with tfjs. Options apply
 * to the next initialisation; passing them after `useBackend` has initialised wasm throws.
 */
export function registerWasmBackend(opts: WasmBackendOptions = {}): LoraBackend {
  checkThreads(opts.threads);
  const changes =
    opts.wasmPaths !== undefined ||
    opts.usePlatformFetch !== undefined ||
    opts.fasterKernels !== undefined ||
    opts.threads !== undefined;
  if (changes && tf.engine().registry['wasm']) {
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

/**
 * The wasm thread count a browser page or worker gets with the current `threads` option, and why (e.g.
 * one thread because the page is not cross-origin isolated); undefined in Node, where the default is
 * the core count (at most 8).
 */
export function wasmThreadsPlan(): BrowserThreadsPlan | undefined {
  return nodeVersion() === undefined ? browserThreadsPlan(options.threads) : undefined;
}

/**
 * The number of threads the initialised wasm backend runs XNNPACK with (tfjs `getThreadsCount`);
 * undefined before the backend starts.
 */
export async function wasmThreadsCount(): Promise<number | undefined> {
  if (!tf.engine().registry['wasm']) return undefined;
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  return wasm.getThreadsCount();
}
