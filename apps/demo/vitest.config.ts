import { defineConfig } from 'vitest/config';

// Unit tests (pure logic) and the browser end-to-end test, which drives Chromium from this process.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 240_000,
    hookTimeout: 240_000,
  },
});
