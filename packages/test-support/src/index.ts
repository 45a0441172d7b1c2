export * from './browser.js';
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
export { loadPeftCase } from './peft-case.js';
export { readSafetensorsFile } from './safetensors-file.js';
