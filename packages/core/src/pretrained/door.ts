// The pretrained-model door at core's root: loadPretrained with core's LayersModel format registered.
import './layers-format.js';

export { loadPretrained, registerModelFormat, listModelFormats } from './formats.js';
export type { ModelFormat, PretrainedModels, PretrainedModel } from './formats.js';
export type { ModelFiles, PretrainedSource, LoadPretrainedOptions } from './model-files.js';
