// @tfjs-lora/test-support/hooks: helpers that register vitest hooks (beforeAll/afterAll) in the describe block
// that calls them; only for test files (they import vitest, and the cpu backend).
export { useRenamedCpuBackend } from './renamed-cpu-backend.js';
export { useModelAndReference, type ModelAndReference } from './suite-model.js';
