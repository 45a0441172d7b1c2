// Threads for the wasm backend in the demo's worker. tfjs-backend-wasm 4.22 starts its threaded build
// (tfjs-backend-wasm-threaded-simd.wasm, pthreads as nested workers) only where SharedArrayBuffer exists,
// i.e. where the page is cross-origin isolated (vite.config.ts sends COOP/COEP). Its C++ side then sizes
// XNNPACK's pool as min(requested, navigator.hardwareConcurrency / 2): one thread on a 2-core machine.
// The demo asks for every core (at most 8, tfjs's pthread pool) and lifts that cap the way
// @tfjs-lora/backend-wasm does in Node: while the backend initialises, the core count emscripten reads
// (`navigator.hardwareConcurrency`, its only source in a browser) reads 2 × the requested count.

/** The most threads asked for: tfjs-backend-wasm's fixed pthread pool. */
export const MAX_WASM_THREADS = 8;

const scope = self as unknown as { crossOriginIsolated?: boolean; navigator: Navigator };

/** Whether this worker may share memory (SharedArrayBuffer), which wasm threads need. */
export function isCrossOriginIsolated(): boolean {
  return scope.crossOriginIsolated === true;
}

/**
 * The wasm thread count to ask for: `requested` if given (1 = single-threaded build), else every logical
 * core up to {@link MAX_WASM_THREADS}; `false` (one thread) where the worker is not cross-origin isolated.
 */
export function wasmThreadsWanted(requested?: number): number | false {
  if (!isCrossOriginIsolated()) return false;
  const n = requested ?? Math.min(scope.navigator.hardwareConcurrency || 1, MAX_WASM_THREADS);
  return n >= 2 ? Math.min(Math.floor(n), MAX_WASM_THREADS) : false;
}

/**
 * Runs `start` (which initialises the wasm backend) with `navigator.hardwareConcurrency` reading
 * 2 × `threads`, so tfjs's cores / 2 cap allows `threads`; restores the real value afterwards.
 */
export async function withWasmThreadCap<T>(threads: number | false, start: () => Promise<T>): Promise<T> {
  if (threads === false) return start();
  const nav = scope.navigator;
  Object.defineProperty(nav, 'hardwareConcurrency', { value: 2 * threads, configurable: true });
  try {
    return await start();
  } finally {
    delete (nav as { hardwareConcurrency?: number }).hardwareConcurrency; // back to WorkerNavigator's getter
  }
}
