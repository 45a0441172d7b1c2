import { defineConfig } from 'vite';
import { demoAssets } from './build/assets-plugin.js';
import { tfjsWasmThreadedFactory } from './build/wasm-threads-plugin.js';

// Cross-origin isolation on every response (page, worker script, data, models, .wasm): it gives the page
// and its worker SharedArrayBuffer, so tfjs-backend-wasm can start its threaded build. Everything the
// demo loads comes from its own origin, so require-corp blocks nothing.
const isolation = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

// tfjsWasmThreadedFactory: in the worker's build (vite build) and the main pipeline (vite dev serves the
// worker through it); see build/wasm-threads-plugin.ts.
export default defineConfig({
  plugins: [demoAssets(), tfjsWasmThreadedFactory()],
  worker: { format: 'es', plugins: () => [tfjsWasmThreadedFactory()] },
  build: { target: 'es2022', chunkSizeWarningLimit: 4096, reportCompressedSize: false },
  preview: { host: 'localhost', port: 4173, headers: isolation },
  server: { host: 'localhost', headers: isolation },
});
