import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Dawn (dawn.node) lives in the test process: child processes, not worker threads.
    pool: 'forks',
    deps: {
      optimizer: {
        ssr: {
          enabled: true,
          // tfjs-backend-webgpu must share the optimised tfjs-core instance, or its kernels land in another engine.
          include: ['@tensorflow/tfjs-core', '@tensorflow/tfjs-layers', '@tensorflow/tfjs-backend-cpu', '@tensorflow/tfjs-backend-webgpu'],
        },
      },
    },
  },
});
