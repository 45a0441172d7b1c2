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
export {
  trainedAdapterRoundTrip,
  type PeftFileFunctions,
  type PredictingModel,
  type RoundTripResult,
  type TrainedAdapterRoundTrip,
} from './adapter-round-trip.js';
export { editedConfigFolder, type EditedConfigFolder } from './edited-config-folder.js';
export { hfModelChecks, type HfModelCheckDeps, type HfModelChecks } from './hf-model-checks.js';
export { startHubServer, type HubServer } from './hub-server.js';
export { saveToMemory, type SavesToHandler } from './model-artifacts.js';
export { loadPeftCase } from './peft-case.js';
export { readSafetensorsFile } from './safetensors-file.js';
