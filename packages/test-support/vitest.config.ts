import { tfjsTestConfig } from '../../vitest.shared.js';

export default tfjsTestConfig();
