// A Vite plugin that serves the build-time assets (build/assets.ts) in `vite dev` and emits them into
// dist/ in `vite build`, so one `vite build` makes a self-contained site.
import type { Plugin } from 'vite';
import { buildAssets } from './assets.js';

const TYPES: Record<string, string> = {
  json: 'application/json',
  bin: 'application/octet-stream',
  wasm: 'application/wasm',
  txt: 'text/plain; charset=utf-8',
};

/** The demo's data, models and wasm binaries as part of the site. */
export function demoAssets(): Plugin {
  let assets: Promise<Map<string, Uint8Array>> | undefined;
  const get = () => (assets ??= buildAssets());
  return {
    name: 'tfjs-lora-demo-assets',
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const path = decodeURIComponent((req.url ?? '').split('?')[0]!.slice(1));
        get().then((files) => {
          const bytes = files.get(path);
          if (!bytes) return next();
          res.setHeader('Content-Type', TYPES[path.split('.').pop()!] ?? 'application/octet-stream');
          for (const [name, value] of Object.entries(server.config.server.headers ?? {}))
            if (value !== undefined) res.setHeader(name, value);
          res.end(bytes);
        }, next);
      });
    },
    async generateBundle() {
      for (const [fileName, source] of await get()) this.emitFile({ type: 'asset', fileName, source });
    },
  };
}
