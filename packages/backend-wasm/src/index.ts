// @tfjs-lora/backend-wasm: the 'wasm' LoRA backend plugin, its options and what it reports at run time.
// Importing this entry registers the plugin (and its training kernels at init); the kernel configs and
// the thread plumbing are internal.
import './register.js';

export {
  wasmBackend,
  registerWasmBackend,
  wasmThreadsCount,
  wasmThreadsPlan,
  type WasmBackendOptions,
  type WasmPaths,
} from './wasm-backend.js';
export { MAX_WASM_THREADS, type BrowserThreadsPlan } from './threads/browser-threads.js';
export { transposeCacheStats, clearTransposeCache } from './kernels/transpose-cache.js';
