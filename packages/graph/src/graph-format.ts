// loadPretrained's GraphModel format: a model.json whose format is 'graph-model' (tfjs-converter output).
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel } from '@tensorflow/tfjs-converter';
import { ModelFormatError, type ModelFormat } from '@tfjs-lora/core';
import { modelJsonKind, modelJsonName, readModelJsonArtifacts } from '@tfjs-lora/core/pretrained';

/** tfjs's GraphModel format (`tf.loadGraphModel`'s model.json). */
export const graphModelFormat: ModelFormat = {
  name: 'tfjs-graph',
  packageName: '@tfjs-lora/graph',
  async match(files) {
    if (files.ioHandler) {
      const artifacts = await files.ioHandler.load!();
      const kind = modelJsonKind({ format: artifacts.format, modelTopology: artifacts.modelTopology });
      return kind === 'graph-model'
        ? true
        : `the IOHandler gives ${kind === undefined ? 'no tfjs model' : `a ${kind}`}`;
    }
    const name = modelJsonName(files);
    const json = await files.readJson(name);
    if (json === undefined) return `no ${name}`;
    const kind = modelJsonKind(json);
    return kind === 'graph-model' ? true : `${name} is ${kind === undefined ? 'not a tfjs model.json' : `a ${kind}`}`;
  },
  async load(files, options) {
    if (files.ioHandler) return loadGraphModel(files.ioHandler);
    const artifacts = await readModelJsonArtifacts(files, modelJsonName(files), options);
    try {
      return await loadGraphModel(tf.io.fromMemory(artifacts));
    } catch (e) {
      throw new ModelFormatError(`tf.loadGraphModel could not build ${files.description}: ${(e as Error).message}`, {
        cause: e,
      });
    }
  },
};
