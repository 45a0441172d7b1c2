// Core's own pretrained format: a tfjs LayersModel (model.json with a Keras-style topology + weight shards).
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { ModelFormatError } from '../errors/index.js';
import { registerModelFormat, type ModelFormat } from './formats.js';
import { modelJsonKind, modelJsonName, readModelJsonArtifacts } from './model-json.js';

/** tfjs's LayersModel format (`tf.loadLayersModel`'s model.json); registered by core. */
export const layersModelFormat: ModelFormat = {
  name: 'tfjs-layers',
  packageName: '@tfjs-lora/core',
  async match(files) {
    if (files.ioHandler) {
      const artifacts = await files.ioHandler.load!();
      const kind = modelJsonKind({ format: artifacts.format, modelTopology: artifacts.modelTopology });
      return kind === 'layers-model'
        ? true
        : `the IOHandler gives ${kind === undefined ? 'no tfjs model' : `a ${kind}`}`;
    }
    const name = modelJsonName(files);
    const json = await files.readJson(name);
    if (json === undefined) return `no ${name}`;
    const kind = modelJsonKind(json);
    return kind === 'layers-model' ? true : `${name} is ${kind === undefined ? 'not a tfjs model.json' : `a ${kind}`}`;
  },
  async load(files, options) {
    if (files.ioHandler) return tfl.loadLayersModel(files.ioHandler);
    const artifacts = await readModelJsonArtifacts(files, modelJsonName(files), options);
    try {
      return await tfl.loadLayersModel(tf.io.fromMemory(artifacts));
    } catch (e) {
      throw new ModelFormatError(`tf.loadLayersModel could not build ${files.description}: ${(e as Error).message}`, {
        cause: e,
      });
    }
  },
};

registerModelFormat(layersModelFormat);
