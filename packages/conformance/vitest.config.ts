import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Dawn (dawn.node) and Chromium are driven from the test process: child processes, not threads.
    pool: 'forks',
    deps: {
      optimizer: {
        ssr: {
          enabled: true,
          // every tfjs package must share one optimised tfjs-core instance
          include: [
            '@tensorflow/tfjs-core',
            '@tensorflow/tfjs-layers',
            '@tensorflow/tfjs-backend-cpu',
            '@tensorflow/tfjs-backend-wasm',
            '@tensorflow/tfjs-backend-webgpu',
          ],
        },
      },
    },
  },
});
