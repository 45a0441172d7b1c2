import { tfjsTestConfig } from '../../vitest.shared.js';

export default tfjsTestConfig({ tfjs: ['@tensorflow/tfjs-backend-wasm'] });
