import { tfjsTestConfig } from '../../vitest.shared.js';

// The smoke test spawns benchmark workers as child processes.
export default tfjsTestConfig({ pool: 'forks', timeoutMs: 120_000 });
