// Multi-threaded tfjs-backend-wasm in Node, without forking tfjs. tfjs 4.22 turns threads off in Node
// (tfjs issue 3830): its pthread workers are made from `blob:` URLs, which Node's Worker rejects, and
// the C++ side caps the pool at (logical cores / 2). This file builds the threaded module itself from
// the files tfjs-backend-wasm ships (wasm-out/…-threaded-simd.js, its worker source and .wasm):
// - the worker is a `data:` URL module that loads tfjs's own worker source (an approach from the
//   unmerged tfjs PR 8059: worker source evaluated, module handed over as a file path);
// - the module is handed to workers as its file path (`mainScriptUrlOrBlob`);
// - the wasm import `emscripten_num_logical_cores` reports 2 × the requested count, so the C++ cap
//   (cores / 2, at most 8) allows it;
// - pool workers are unref'd, so a process exits when its work is done.
// The result is tfjs's own BackendWasm, registered as 'wasm' in place of tfjs's factory.
import * as tf from '@tensorflow/tfjs-core';
import { LoraError } from '@tfjs-lora/core';

type WasmPackage = typeof import('@tensorflow/tfjs-backend-wasm');

/** The part of an Emscripten pthreads module used here. */
interface ThreadedModule {
  cwrap(name: string, ret: string | null, args: string[]): (...args: number[]) => number;
  PThread: { runningWorkers: { unref(): void }[]; unusedWorkers: { unref(): void }[] };
  tfjs?: Record<string, unknown>;
}
type Factory = (config: Record<string, unknown>) => Promise<ThreadedModule>;

/** The files of the threaded build inside the installed @tensorflow/tfjs-backend-wasm. */
export interface ThreadedFiles {
  /** wasm-out/tfjs-backend-wasm-threaded-simd.js (CommonJS factory). */
  factory: string;
  /** wasm-out/tfjs-backend-wasm-threaded-simd.worker.js (exports the worker source as a string). */
  worker: string;
  /** The threaded .wasm binary. */
  binary: string;
}

/** tfjs-backend-wasm's priority for 'wasm' (kept when the factory is replaced). */
const WASM_PRIORITY = 2;

/** The bits of Node's `require` used here (no Node types in the build). */
interface NodeRequire {
  (id: string): unknown;
  resolve(id: string): string;
}

/** Imports a Node built-in without making bundlers for the browser resolve it. */
async function nodeBuiltin<T>(name: string): Promise<T> {
  const specifier = `node:${name}`;
  return (await import(/* @vite-ignore */ specifier)) as T;
}

async function nodeRequire(): Promise<NodeRequire> {
  const { createRequire } = await nodeBuiltin<{ createRequire(url: string): NodeRequire }>('module');
  return createRequire(import.meta.url);
}

/** Locates the threaded build's files (binary in `wasmFolder`, default: the package's `dist/`). */
export async function threadedFiles(wasmFolder?: string): Promise<ThreadedFiles> {
  const require = await nodeRequire();
  const main = require.resolve('@tensorflow/tfjs-backend-wasm');
  const dist = main.slice(0, Math.max(main.lastIndexOf('/'), main.lastIndexOf('\\')) + 1);
  const root = `${dist}../`;
  return {
    factory: `${root}wasm-out/tfjs-backend-wasm-threaded-simd.js`,
    worker: `${root}wasm-out/tfjs-backend-wasm-threaded-simd.worker.js`,
    binary: `${wasmFolder ?? dist}tfjs-backend-wasm-threaded-simd.wasm`,
  };
}

/** The source of the pthread worker: an ES module that runs tfjs's worker source with `require`. */
export function workerSource(files: ThreadedFiles): string {
  const path = JSON.stringify(files.worker);
  // tfjs's worker source has "\n" escapes inside string literals that its own loader re-escapes
  // (it builds a Blob from the text); do the same before evaluating it.
  return [
    `import { createRequire } from 'node:module';`,
    `const require = createRequire(${path});`,
    `const { wasmWorkerContents } = require(${path});`,
    `const source = wasmWorkerContents.split(String.fromCharCode(10)).join(String.fromCharCode(92, 110));`,
    `new Function('require', '__filename', source)(require, ${path});`,
  ].join('\n');
}

/** Builds tfjs's BackendWasm on the threaded module with `threads` threads (Node only). */
export async function createThreadedBackend(
  wasm: WasmPackage,
  threads: number,
  files: ThreadedFiles,
): Promise<tf.KernelBackend> {
  const require = await nodeRequire();
  const { readFile } = await nodeBuiltin<{ readFile(path: string): Promise<Uint8Array> }>('fs/promises');
  const factory = require(files.factory) as Factory;
  const binary = await readFile(files.binary);
  const worker = new URL(`data:text/javascript,${encodeURIComponent(workerSource(files))}`);
  let failInstantiate: (e: unknown) => void = () => {};
  const instantiateFailed = new Promise<never>((_, reject) => (failInstantiate = reject));
  const module = await Promise.race([
    factory({
      // Node's Worker takes a URL object: the data: URL above (locateFile's result goes to `new Worker`).
      locateFile: (path: string, prefix: string) =>
        path.endsWith('.worker.js') ? worker : path.endsWith('.wasm') ? files.binary : prefix + path,
      mainScriptUrlOrBlob: files.factory,
      instantiateWasm(
        info: { env: Record<string, unknown> },
        receive: (i: WebAssembly.Instance, m: WebAssembly.Module) => void,
      ) {
        info.env.emscripten_num_logical_cores = () => 2 * threads;
        WebAssembly.instantiate(binary as BufferSource, info as unknown as WebAssembly.Imports).then(
          (r) => receive(r.instance, r.module),
          failInstantiate,
        );
        return {};
      },
    }),
    instantiateFailed,
  ]);
  // As tfjs-backend-wasm's init() does (4.22).
  module.tfjs = {
    init: module.cwrap('init', null, []),
    initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
    getThreadsCount: module.cwrap('get_threads_count', 'number', []),
    registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
    disposeData: module.cwrap('dispose_data', null, ['number']),
    dispose: module.cwrap('dispose', null, []),
  };
  wasm.setThreadsCount(threads);
  const backend = new wasm.BackendWasm(module as unknown as ConstructorParameters<WasmPackage['BackendWasm']>[0]);
  // The pool's threads never end; unref'd, they do not keep Node alive once the main thread is done.
  for (const w of [...module.PThread.runningWorkers, ...module.PThread.unusedWorkers]) w.unref();
  return backend;
}

/** tfjs-backend-wasm's own factory for 'wasm', kept when this file replaces it. */
let stockFactory: (() => tf.KernelBackend | Promise<tf.KernelBackend>) | undefined;

/**
 * Replaces tfjs-backend-wasm's factory for 'wasm' by one that builds the threaded module with
 * `threads` threads (false or 1: puts tfjs's own single-threaded factory back). If the threaded module
 * fails to start, the factory falls back to tfjs's own and warns once with the reason. Call before the
 * wasm backend is initialised; calling again replaces the previous choice.
 */
export function useNodeThreads(wasm: WasmPackage, threads: number | false, wasmFolder?: string): void {
  if (tf.engine().registry['wasm']) {
    throw new LoraError(
      `Threads for wasm must be set up before the backend starts; found 'wasm' already initialised. Call registerWasmBackend({ threads }) before useBackend().`,
    );
  }
  stockFactory ??= tf.findBackendFactory('wasm') ?? undefined;
  const stock = stockFactory;
  tf.removeBackend('wasm');
  if (threads === false || threads <= 1) {
    if (stock) tf.registerBackend('wasm', stock, WASM_PRIORITY);
    return;
  }
  tf.registerBackend(
    'wasm',
    async () => {
      try {
        return await createThreadedBackend(wasm, threads, await threadedFiles(wasmFolder));
      } catch (e) {
        if (!stock) throw e;
        console.warn(
          `@tfjs-lora/backend-wasm: multi-threaded wasm failed to start (${(e as Error)?.message ?? e}); using one thread.`,
        );
        return stock();
      }
    },
    WASM_PRIORITY,
  );
}
