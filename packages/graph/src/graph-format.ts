// loadPretrained's GraphModel format: a model.json whose format is 'graph-model' (tfjs-converter output).
import { loadGraphModel } from '@tensorflow/tfjs-converter';
import type { ModelFormat } from '@tfjs-lora/core';
import { loadModelJson, matchModelJson } from '@tfjs-lora/core/pretrained';

/** tfjs's GraphModel format (`tf.loadGraphModel`'s model.json). */
export const graphModelFormat: ModelFormat = {
  name: 'tfjs-graph',
  packageName: '@tfjs-lora/graph',
  match: (files) => matchModelJson(files, 'graph-model'),
  load: (files, options) => loadModelJson(files, options, (h) => loadGraphModel(h), 'tf.loadGraphModel'),
};
