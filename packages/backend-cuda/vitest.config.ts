import { tfjsTestConfig } from '../../vitest.shared.js';

// The native binding (tfjs_binding.node) is loaded into the test process: child processes, not threads.
export default tfjsTestConfig({ pool: 'forks' });
