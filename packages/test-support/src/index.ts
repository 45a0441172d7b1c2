export {
  FIXTURES_ROOT,
  fixtureFiles,
  peftCaseNames,
  peftCasePath,
  peftRealPath,
  peftRealReference,
  type PeftRealModule,
  type PeftRealReference,
  type PeftRealSaved,
} from './fixtures.js';
export { disposeCase, loadPeftCase, type PeftCase, type PeftCaseLayer } from './peft-case.js';
export { readSafetensorsFile } from './safetensors-file.js';
export { maxAbsDiff } from './tensors.js';
