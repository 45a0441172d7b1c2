// Multi-threaded tfjs-backend-wasm in browsers and their workers. tfjs 4.22 starts its threaded build
// (tfjs-backend-wasm-threaded-simd.wasm, pthreads as nested workers) only where SharedArrayBuffer exists,
// i.e. where the page is cross-origin isolated (`crossOriginIsolated`, COOP/COEP headers). Its C++ side
// then sizes XNNPACK's pool as min(requested, logical cores / 2, 8), where emscripten's core count in a
// browser is `navigator.hardwareConcurrency`: one thread on a 2-core machine. As node-threads.ts does
// in Node (where it reports 2 × the count through the wasm import), this file lifts that cap: tfjs's
// factory for 'wasm' is re-registered, wrapped so that `navigator.hardwareConcurrency` reads
// 2 × the wanted count until the factory's promise settles, then reads the real value again.
import * as tf from '@tensorflow/tfjs-core';
import { LoraError } from '@tfjs-lora/core';

type WasmPackage = typeof import('@tensorflow/tfjs-backend-wasm');
type BackendFactory = () => tf.KernelBackend | Promise<tf.KernelBackend>;

/** The most threads: tfjs-backend-wasm's fixed pthread pool (and its C++ cap). */
export const MAX_WASM_THREADS = 8;

/** What the thread count in a browser depends on (a pure input, so it can be tested anywhere). */
export interface BrowserThreadsInput {
  /** `crossOriginIsolated` of the page or worker: SharedArrayBuffer, which threads need, exists. */
  isolated: boolean;
  /** `navigator.hardwareConcurrency` (logical cores); undefined where the browser does not say. */
  hardwareConcurrency: number | undefined;
  /** The `threads` option: a count 1–8, false for one thread, undefined for the default. */
  requested: number | false | undefined;
}

/** The thread count for a browser, and why. */
export interface BrowserThreadsPlan {
  /** Threads for XNNPACK (2–8), or false for tfjs's single-threaded build. */
  threads: number | false;
  /** One sentence saying why: the count's source, or why threads are off. */
  reason: string;
}

/**
 * The wasm thread count in a browser: off where the page is not cross-origin isolated (no
 * SharedArrayBuffer), off for `requested` false or 1; else `requested`, or by default one thread per
 * logical core, at most {@link MAX_WASM_THREADS}, and threads only when that is 2 or more.
 */
export function resolveBrowserThreads({
  isolated,
  hardwareConcurrency,
  requested,
}: BrowserThreadsInput): BrowserThreadsPlan {
  if (!isolated) {
    return {
      threads: false,
      reason:
        'one thread: the page is not cross-origin isolated (crossOriginIsolated is not true), so SharedArrayBuffer, which wasm threads need, ' +
        'is unavailable; serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp',
    };
  }
  if (requested === false || requested === 1)
    return { threads: false, reason: `one thread: threads: ${String(requested)} was passed` };
  if (requested !== undefined)
    return {
      threads: Math.min(requested, MAX_WASM_THREADS),
      reason: `${requested} threads: threads: ${requested} was passed`,
    };
  const cores = Math.floor(hardwareConcurrency ?? 1) || 1;
  if (cores < 2)
    return { threads: false, reason: `one thread: navigator.hardwareConcurrency is ${String(hardwareConcurrency)}` };
  const threads = Math.min(cores, MAX_WASM_THREADS);
  return {
    threads,
    reason: `${threads} threads: one per logical core (navigator.hardwareConcurrency ${cores}, at most ${MAX_WASM_THREADS})`,
  };
}

/** The global scope's view of the inputs (page or worker). */
function scope(): { crossOriginIsolated?: boolean; navigator?: { hardwareConcurrency?: number } } {
  return globalThis as unknown as { crossOriginIsolated?: boolean; navigator?: { hardwareConcurrency?: number } };
}

/** {@link resolveBrowserThreads} for this page or worker and the `threads` option. */
export function browserThreadsPlan(requested: number | false | undefined): BrowserThreadsPlan {
  const g = scope();
  return resolveBrowserThreads({
    isolated: g.crossOriginIsolated === true,
    hardwareConcurrency: g.navigator?.hardwareConcurrency,
    requested,
  });
}

/**
 * Runs `run` with `target.hardwareConcurrency` reading `cores` until its promise settles, then puts the
 * property back: an own property that was there is restored, else the own property is deleted, so a
 * WorkerNavigator's or Navigator's prototype getter answers again. Where the property cannot be
 * defined (a frozen object), `run` runs unchanged.
 */
export async function withHardwareConcurrency<T>(target: object, cores: number, run: () => T | Promise<T>): Promise<T> {
  const own = Object.getOwnPropertyDescriptor(target, 'hardwareConcurrency');
  try {
    Object.defineProperty(target, 'hardwareConcurrency', { value: cores, configurable: true, enumerable: true });
  } catch {
    return run();
  }
  try {
    return await run();
  } finally {
    if (own) Object.defineProperty(target, 'hardwareConcurrency', own);
    else delete (target as { hardwareConcurrency?: number }).hardwareConcurrency;
  }
}

/** tfjs-backend-wasm's own factory for 'wasm' and its priority, kept when this file wraps it. */
let stock: { factory: BackendFactory; priority: number } | undefined;

/**
 * Sets up `threads` for tfjs-backend-wasm in a browser: false puts tfjs's single-threaded build (and its
 * own factory) in place; a count sets tfjs's thread count and re-registers tfjs's factory for 'wasm'
 * (same priority) wrapped by {@link withHardwareConcurrency} with 2 × `threads`, so tfjs's cores / 2 cap
 * allows the count. While that factory runs, `navigator.hardwareConcurrency` reads 2 × `threads` for all
 * code in this page or worker. Call before the wasm backend is initialised.
 */
export function useBrowserThreads(wasm: WasmPackage, threads: number | false): void {
  if (tf.engine().registry['wasm']) {
    throw new LoraError(
      `Threads for wasm must be set up before the backend starts; found 'wasm' already initialised. Call registerWasmBackend({ threads }) before useBackend().`,
    );
  }
  const registered = tf.engine().registryFactory['wasm'];
  stock ??= registered ? { factory: registered.factory, priority: registered.priority } : undefined;
  if (!stock) return; // tfjs-backend-wasm registers 'wasm' on import; nothing to wrap without it
  const { factory, priority } = stock;
  tf.removeBackend('wasm');
  if (threads === false || threads <= 1) {
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    tf.registerBackend('wasm', factory, priority);
    return;
  }
  wasm.setThreadsCount(threads);
  const navigator = scope().navigator;
  tf.registerBackend(
    'wasm',
    () => (navigator ? withHardwareConcurrency(navigator, 2 * threads, factory) : factory()),
    priority,
  );
}
