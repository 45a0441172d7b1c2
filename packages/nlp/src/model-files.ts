import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { LoraError } from '@tfjs-lora/core';
import { nodeIo } from './node-io.js';

/** The standard tfjs `model.json` of a layers model whose weights are in one `weights.bin`. */
interface ModelJson {
  format: 'layers-model';
  generatedBy: string;
  convertedBy: null;
  modelTopology: tf.io.ModelArtifacts['modelTopology'];
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  userDefinedMetadata?: Record<string, unknown>;
}

function joinBuffers(data: tf.io.WeightData): ArrayBuffer {
  const parts = Array.isArray(data) ? data : [data];
  const out = new Uint8Array(parts.reduce((n, b) => n + b.byteLength, 0));
  let offset = 0;
  for (const b of parts) {
    out.set(new Uint8Array(b), offset);
    offset += b.byteLength;
  }
  return out.buffer;
}

/** The files of a saved layers model: `model.json` text and `weights.bin` bytes (the layout `tf.loadLayersModel(url)` reads). */
export async function modelFiles(
  model: tfl.LayersModel,
  metadata?: Record<string, unknown>,
): Promise<{ json: string; weights: Uint8Array }> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const a = artifacts!;
  const json: ModelJson = {
    format: 'layers-model',
    generatedBy: a.generatedBy ?? 'TensorFlow.js',
    convertedBy: null,
    modelTopology: a.modelTopology,
    weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs ?? [] }],
    ...(metadata ? { userDefinedMetadata: metadata } : {}),
  };
  return { json: JSON.stringify(json), weights: new Uint8Array(joinBuffers(a.weightData ?? new ArrayBuffer(0))) };
}

/** A layers model from `model.json` text and `weights.bin` bytes, and the metadata saved with it. */
export async function modelFromFiles(
  json: string,
  weights: Uint8Array,
): Promise<{ model: tfl.LayersModel; metadata: Record<string, unknown> }> {
  const parsed = JSON.parse(json) as ModelJson;
  if (parsed.format !== 'layers-model' || !parsed.weightsManifest?.[0]) {
    throw new LoraError(
      `Expected a tfjs layers-model model.json with one weights manifest entry; found format ${JSON.stringify(parsed.format)}. Save it with saveModelFiles().`,
    );
  }
  const copy = weights.slice().buffer;
  const model = await tfl.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: parsed.modelTopology,
      weightSpecs: parsed.weightsManifest[0].weights,
      weightData: copy,
    }),
  );
  return { model, metadata: parsed.userDefinedMetadata ?? {} };
}

/** Node: writes `model.json` and `weights.bin` into `dir` (created if missing). */
export async function saveModelFiles(
  model: tfl.LayersModel,
  dir: string,
  metadata?: Record<string, unknown>,
): Promise<void> {
  const { fs, join } = await nodeIo('Saving a model to a directory');
  const { json, weights } = await modelFiles(model, metadata);
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(join(dir, 'model.json'), json);
  await fs.writeFile(join(dir, 'weights.bin'), weights);
}

/** Node: reads a model saved by {@link saveModelFiles} (or any one-file tfjs layers model) from `dir`. */
export async function loadModelFiles(
  dir: string,
): Promise<{ model: tfl.LayersModel; metadata: Record<string, unknown> }> {
  const { fs, join } = await nodeIo('Loading a model from a directory');
  const [json, weights] = await Promise.all([
    fs.readFile(join(dir, 'model.json')),
    fs.readFile(join(dir, 'weights.bin')),
  ]);
  return modelFromFiles(new TextDecoder().decode(json), new Uint8Array(weights));
}
