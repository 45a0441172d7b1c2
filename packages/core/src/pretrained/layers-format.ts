// Core's own pretrained format: a tfjs LayersModel (model.json with a Keras-style topology + weight shards).
import * as tfl from '@tensorflow/tfjs-layers';
import { registerModelFormat, type ModelFormat } from './formats.js';
import { loadModelJson, matchModelJson } from './model-json.js';

/** tfjs's LayersModel format (`tf.loadLayersModel`'s model.json); registered by core. */
export const layersModelFormat: ModelFormat = {
  name: 'tfjs-layers',
  packageName: '@tfjs-lora/core',
  match: (files) => matchModelJson(files, 'layers-model'),
  load: (files, options) => loadModelJson(files, options, (h) => tfl.loadLayersModel(h), 'tf.loadLayersModel'),
};

registerModelFormat(layersModelFormat);
