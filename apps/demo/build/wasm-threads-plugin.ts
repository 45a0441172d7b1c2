// A Vite plugin that keeps tfjs-backend-wasm's threaded build working after minification.
//
// tfjs-backend-wasm 4.22 starts its pthreads from `wasmFactoryThreadedSimd.toString()` (backend_wasm.js:
// `mainScriptUrlOrBlob = new Blob(['var WasmBackendModuleThreadedSimd = ' + factory.toString()])`), which
// each pthread worker `importScripts` and calls. That only works while the factory's source is
// self-contained. Minified, it is not: the factory reads `_scriptDir` from the IIFE around it, guarded by
// `typeof _scriptDir !== "undefined"`; the minifier renames the variable (`e`) and drops the guard (the
// name is in scope), so every pthread worker throws `ReferenceError: e is not defined` and wasm never
// starts. This plugin serves that one file as its original text in a string, turned into the factory
// with `new Function` at run time, so the minifier cannot touch the source the pthreads evaluate.
import { readFile } from 'node:fs/promises';
import type { Plugin } from 'vite';

const THREADED = /[\\/]@tensorflow[\\/]tfjs-backend-wasm[\\/]wasm-out[\\/]tfjs-backend-wasm-threaded-simd\.js$/;

/** tfjs-backend-wasm's threaded-simd factory, kept verbatim through bundling and minification. */
export function tfjsWasmThreadedFactory(): Plugin {
  return {
    name: 'tfjs-lora-demo-wasm-threaded-factory',
    enforce: 'pre',
    async load(id) {
      const path = id.split('?')[0]!;
      if (!THREADED.test(path)) return null;
      const source = await readFile(path, 'utf8');
      // Inside the Function body `module`, `exports` and `define` are undefined, so tfjs's UMD tail is a
      // no-op and the body returns the factory; its toString() is the text of the original file.
      const body = `${source}\nreturn WasmBackendModuleThreadedSimd;`;
      return `const factory = new Function(${JSON.stringify(body)})();\nexport default factory;\n`;
    },
  };
}
