// @tfjs-lora/core/pretrained: the pieces model formats are built from (sources as files, model.json
// artifacts, Hugging Face checkpoints, the Hub's URLs). `loadPretrained` itself is at core's root.
export { openModelFiles } from '../pretrained/model-files.js';
export { hubUrl, type HubUrlOptions } from '../pretrained/hub.js';
export {
  readModelJsonArtifacts,
  modelJsonKind,
  modelJsonName,
  matchModelJson,
  loadModelJson,
} from '../pretrained/model-json.js';
export {
  readHfCheckpoint,
  matchHfCheckpoint,
  hfArchitecture,
  HF_CONFIG_NAME,
  HF_WEIGHTS_NAME,
  HF_WEIGHTS_INDEX_NAME,
  type HfCheckpoint,
} from '../pretrained/hf-checkpoint.js';
export { layersModelFormat } from '../pretrained/layers-format.js';
export { layersModelKind } from '../apply-lora.js';
export { isTrainableModel, isPeftExportable, requireModelKind } from '../model-kind.js';
