import { tfjsTestConfig } from '../../vitest.shared.js';

// Dawn (dawn.node) lives in the test process: child processes, not worker threads.
export default tfjsTestConfig({ pool: 'forks', tfjs: ['@tensorflow/tfjs-backend-webgpu'] });
