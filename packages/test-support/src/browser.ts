// The part of @tfjs-lora/test-support that runs in a browser page too (no node: imports).
export {
  buildCaseModel,
  caseModel,
  CASE_LAYER_KINDS,
  caseKindOfClass,
  caseKinds,
  disposeCase,
  peftCaseFileNames,
  peftCaseFromFiles,
  type CaseLayerKind,
  type CaseModel,
  type PeftCase,
  type PeftCaseFiles,
  type PeftCaseLayer,
} from './peft-case-model.js';
export { readSafetensorsBytes } from './safetensors-bytes.js';
export { maxAbsDiff } from './tensors.js';
export { maxDiff, values } from './arrays.js';
