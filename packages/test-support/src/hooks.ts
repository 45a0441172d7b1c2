// @tfjs-lora/test-support/hooks: helpers that register vitest hooks (beforeAll/afterAll) or tests in the describe
// block that calls them; only for test files (they import vitest, node:http, and the cpu backend).
export { describeHubLoading, type HubLoadingOptions } from './hub-loading-suite.js';
export { useRenamedCpuBackend } from './renamed-cpu-backend.js';
export { useModelAndReference, type ModelAndReference } from './suite-model.js';
