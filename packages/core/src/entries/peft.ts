// @tfjs-lora/core/peft: PEFT's file format and matching rules in detail (tensor keys, module maps, the load
// plan, single-file adapters, tf.io helpers). Everyday loading and saving is in the root entry.
export { matchesSelector } from '../config/patterns.js';
export { selectTargets, layerIndexOf, type LayerInfo } from '../config/targets.js';
export { peftAdapter, isPeftAdapter } from '../peft/adapter.js';
export {
  factorKey,
  paramKey,
  classifyPeftKey,
  effectiveModulesToSave,
  PEFT_KEY_PREFIX,
  TASK_MODULES_TO_SAVE,
  type PeftKeyRole,
} from '../peft/keys.js';
export {
  mapPeftModules,
  normalizeModulePath,
  modelModuleAliases,
  MODULE_ALIASES_METADATA_KEY,
  type ModuleAliases,
} from '../peft/module-map.js';
export { planPeftLoad, type PeftLoadPlan } from '../peft/plan.js';
export {
  decodePeftAdapter,
  toSingleFile,
  fromSingleFile,
  isSingleFile,
  configText,
  ADAPTER_CONFIG_NAME,
  ADAPTER_WEIGHTS_NAME,
  PEFT_CONFIG_METADATA_KEY,
} from '../peft/files.js';
export {
  peftArtifacts,
  peftFilesFromArtifacts,
  peftDownloads,
  peftBrowserFiles,
  fetchPeftFiles,
  PEFT_ARTIFACTS_FORMAT,
} from '../peft/io.js';
export { readPeftFiles } from '../peft/load.js';
export { encodePeftAdapter, encodePeftAdapterAsync } from '../peft/save.js';
