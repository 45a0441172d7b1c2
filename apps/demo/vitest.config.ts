import { defineConfig } from 'vitest/config';

// Unit tests (pure logic) and the browser end-to-end test, which drives Chromium from this process.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    pool: 'forks',
    // One file at a time: the two browser tests each drive Chromium with WebGPU on SwiftShader (CPU), and
    // side by side on a small machine they starve each other past their timeouts.
    fileParallelism: false,
    testTimeout: 240_000,
    hookTimeout: 240_000,
  },
});
