// A tfjs LayersModel as a folder (model.json + weights.bin, the layout `tf.loadLayersModel(url)` reads),
// without tfjs-node: tf.io's in-memory handlers plus the Node file system shim. The in-memory pair
// (modelFiles / modelFromFiles) works everywhere; saving and loading a folder need Node.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { LoraError } from '../errors/index.js';
import { nodeFs, nodePath, type NodeFs } from './fs.js';

const BROWSER_HINT = "load the model with tf.loadLayersModel('https://…/model.json') instead";

/** The standard tfjs `model.json` of a layers model. */
interface ModelJson {
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  modelTopology: tf.io.ModelArtifacts['modelTopology'];
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  userDefinedMetadata?: Record<string, unknown>;
}

/** Options of {@link modelFiles} and {@link saveModelFiles}. */
export interface ModelFilesOptions {
  /** Saved as `userDefinedMetadata` in model.json (read back by {@link modelFromFiles} / {@link loadModelFiles}). */
  metadata?: Record<string, unknown>;
  /** model.json's `convertedBy` (default null). */
  convertedBy?: string | null;
}

/** A model read back: the model and the metadata saved with it (`{}` when none). */
export interface LoadedModelFiles {
  /** The layers model. */
  model: tfl.LayersModel;
  /** model.json's `userDefinedMetadata`. */
  metadata: Record<string, unknown>;
}

/** The files of a saved layers model: `model.json` text and `weights.bin` bytes. */
export async function modelFiles(
  model: tfl.LayersModel,
  options: ModelFilesOptions = {},
): Promise<{ json: string; weights: Uint8Array }> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(a) };
    }),
  );
  const a = artifacts!;
  const json: ModelJson = {
    format: 'layers-model',
    generatedBy: a.generatedBy ?? 'TensorFlow.js',
    convertedBy: options.convertedBy ?? null,
    modelTopology: a.modelTopology,
    weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs ?? [] }],
    ...(options.metadata ? { userDefinedMetadata: options.metadata } : {}),
  };
  return {
    json: JSON.stringify(json),
    weights: new Uint8Array(tf.io.concatenateArrayBuffers(a.weightData ?? new ArrayBuffer(0))),
  };
}

/** A layers model from `model.json` text and `weights.bin` bytes (as {@link modelFiles} makes them). */
export async function modelFromFiles(json: string, weights: Uint8Array): Promise<LoadedModelFiles> {
  const parsed = JSON.parse(json) as ModelJson;
  if (parsed.format !== 'layers-model' || !parsed.weightsManifest?.[0]) {
    throw new LoraError(
      `Expected a tfjs layers-model model.json with one weights manifest entry; found format ${JSON.stringify(parsed.format)}. Save it with saveModelFiles().`,
    );
  }
  const model = await tfl.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: parsed.modelTopology,
      weightSpecs: parsed.weightsManifest[0].weights,
      weightData: weights.slice().buffer,
    }),
  );
  return { model, metadata: parsed.userDefinedMetadata ?? {} };
}

/** Node: writes `model.json` and `weights.bin` into `dir` (created if missing). */
export async function saveModelFiles(
  model: tfl.LayersModel,
  dir: string,
  options: ModelFilesOptions = {},
): Promise<void> {
  const fs = await nodeFs('Saving a model to a directory', BROWSER_HINT);
  const path = await nodePath(BROWSER_HINT);
  const { json, weights } = await modelFiles(model, options);
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(path.join(dir, 'weights.bin'), weights);
  await fs.writeFile(path.join(dir, 'model.json'), json);
}

async function readFile(fs: NodeFs, file: string, what: string): Promise<Uint8Array> {
  try {
    return await fs.readFile(file);
  } catch (e) {
    throw new LoraError(
      `Cannot read ${what} '${file}' (${(e as { code?: string }).code ?? (e as Error).message}); expected a TensorFlow.js model folder (model.json and its weight files). Check the path.`,
      { cause: e },
    );
  }
}

/**
 * Node: reads a layers model from a folder holding `model.json`, or from the path of a model.json itself;
 * its weights come from the files its weights manifest names, beside it (any number of shards). Works for
 * folders written by {@link saveModelFiles} and by tfjs's own `file://` handler.
 */
export async function loadModelFiles(dirOrModelJson: string): Promise<LoadedModelFiles> {
  const fs = await nodeFs('Loading a model from a directory', BROWSER_HINT);
  const path = await nodePath(BROWSER_HINT);
  const file = dirOrModelJson.endsWith('.json') ? dirOrModelJson : path.join(dirOrModelJson, 'model.json');
  const text = new TextDecoder().decode(await readFile(fs, file, 'the model'));
  let json: ModelJson;
  try {
    json = JSON.parse(text) as ModelJson;
  } catch (e) {
    throw new LoraError(`'${file}' is not JSON (${(e as Error).message}); expected a TensorFlow.js model.json.`, {
      cause: e,
    });
  }
  if (typeof json !== 'object' || json === null || !json.modelTopology || !Array.isArray(json.weightsManifest)) {
    throw new LoraError(
      `'${file}' is not a TensorFlow.js LayersModel model.json (expected modelTopology and weightsManifest).`,
    );
  }
  const dir = path.dirname(file);
  const artifacts = await tf.io.getModelArtifactsForJSON(json as tf.io.ModelJSON, async (manifest) => {
    const buffers: ArrayBuffer[] = [];
    for (const group of manifest) {
      for (const p of group.paths) {
        const b = await readFile(fs, path.join(dir, p), 'a weights file');
        buffers.push(b.slice().buffer as ArrayBuffer);
      }
    }
    return [manifest.flatMap((g) => g.weights), tf.io.concatenateArrayBuffers(buffers)];
  });
  const model = await tfl.loadLayersModel(tf.io.fromMemory(artifacts));
  return { model, metadata: json.userDefinedMetadata ?? {} };
}
