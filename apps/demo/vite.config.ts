import { defineConfig } from 'vite';
import { demoAssets } from './build/assets-plugin.js';

export default defineConfig({
  plugins: [demoAssets()],
  worker: { format: 'es' },
  build: { target: 'es2022', chunkSizeWarningLimit: 4096, reportCompressedSize: false },
  preview: { host: 'localhost', port: 4173 },
  server: { host: 'localhost' },
});
