// model.json (tfjs's LayersModel and GraphModel format) + its weight shards → tf.io.ModelArtifacts.
import * as tf from '@tensorflow/tfjs-core';
import { ModelFormatError } from '../errors/index.js';
import type { LoadPretrainedOptions, ModelFiles } from './model-files.js';

/** The `format` a model.json declares (`'layers-model'`, `'graph-model'`), or what its topology looks like. */
export function modelJsonKind(json: Record<string, unknown>): 'layers-model' | 'graph-model' | undefined {
  const format = json['format'];
  if (format === 'layers-model' || format === 'graph-model') return format;
  const topology = json['modelTopology'] as Record<string, unknown> | undefined;
  if (typeof topology !== 'object' || topology === null) return undefined;
  if (Array.isArray(topology['node'])) return 'graph-model';
  if ('model_config' in topology || 'class_name' in topology) return 'layers-model';
  return undefined;
}

/** The model.json name in `files`: the entry the user named if it is a `.json` file, else `model.json`. */
export function modelJsonName(files: ModelFiles): string {
  return files.entry !== undefined && /\.json$/i.test(files.entry) ? files.entry : 'model.json';
}

/**
 * Reads `name` (default: {@link modelJsonName}) and every weight shard its manifest lists, as the
 * `tf.io.ModelArtifacts` that `tf.loadLayersModel(tf.io.fromMemory(artifacts))` or `tf.loadGraphModel(...)`
 * take. A missing shard is a {@link ModelFormatError} naming it.
 */
export async function readModelJsonArtifacts(
  files: ModelFiles,
  name = modelJsonName(files),
  options: Pick<LoadPretrainedOptions, 'onProgress'> = {},
): Promise<tf.io.ModelArtifacts> {
  const json = await files.readJson(name);
  if (json === undefined) throw new ModelFormatError(`No ${name} in ${files.description}.`);
  if (typeof json['modelTopology'] !== 'object' || !Array.isArray(json['weightsManifest']))
    throw new ModelFormatError(
      `${name} in ${files.description} is not a tfjs model.json: expected modelTopology and weightsManifest; found keys ${Object.keys(json).join(', ')}.`,
    );
  const dir = name.includes('/') ? name.slice(0, name.lastIndexOf('/') + 1) : '';
  return tf.io.getModelArtifactsForJSON(json as unknown as tf.io.ModelJSON, async (manifest) => {
    const paths = manifest.flatMap((group) => group.paths);
    const specs = manifest.flatMap((group) => group.weights);
    const buffers: ArrayBuffer[] = [];
    for (const [i, path] of paths.entries()) {
      options.onProgress?.(i / paths.length, `reading ${path}`);
      const bytes = await files.read(dir + path);
      if (bytes === undefined)
        throw new ModelFormatError(
          `${name} in ${files.description} lists weight file '${path}', which is missing. Keep the shards beside model.json.`,
        );
      buffers.push(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
    }
    options.onProgress?.(1, 'weights read');
    return [specs, tf.io.concatenateArrayBuffers(buffers)];
  });
}

/**
 * A model format's `match` for a tfjs model.json of one `kind`: `true` when `files` (or their IOHandler)
 * hold a model.json of that kind, else a short reason (`'no model.json'`, `'model.json is a graph-model'`).
 */
export async function matchModelJson(files: ModelFiles, kind: 'layers-model' | 'graph-model'): Promise<true | string> {
  if (files.ioHandler) {
    const artifacts = await files.ioHandler.load!();
    const found = modelJsonKind({ format: artifacts.format, modelTopology: artifacts.modelTopology });
    return found === kind ? true : `the IOHandler gives ${found === undefined ? 'no tfjs model' : `a ${found}`}`;
  }
  const name = modelJsonName(files);
  const json = await files.readJson(name);
  if (json === undefined) return `no ${name}`;
  const found = modelJsonKind(json);
  return found === kind ? true : `${name} is ${found === undefined ? 'not a tfjs model.json' : `a ${found}`}`;
}

/**
 * A model format's `load` for a tfjs model.json: hands `files`' IOHandler, or the artifacts
 * {@link readModelJsonArtifacts} reads, to `loader` (`tf.loadLayersModel`, `tf.loadGraphModel`). An error
 * of `loader` becomes a {@link ModelFormatError} naming `loaderName` and the files.
 */
export async function loadModelJson<M>(
  files: ModelFiles,
  options: Pick<LoadPretrainedOptions, 'onProgress'>,
  loader: (handler: tf.io.IOHandler) => Promise<M>,
  loaderName: string,
): Promise<M> {
  if (files.ioHandler) return loader(files.ioHandler);
  const artifacts = await readModelJsonArtifacts(files, modelJsonName(files), options);
  try {
    return await loader(tf.io.fromMemory(artifacts));
  } catch (e) {
    throw new ModelFormatError(`${loaderName} could not build ${files.description}: ${(e as Error).message}`, {
      cause: e,
    });
  }
}
