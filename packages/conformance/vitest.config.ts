import { tfjsTestConfig } from '../../vitest.shared.js';

// Dawn (dawn.node) and Chromium are driven from the test process: child processes, not threads.
export default tfjsTestConfig({
  pool: 'forks',
  timeoutMs: 120_000,
  tfjs: ['@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-backend-webgpu'],
});
