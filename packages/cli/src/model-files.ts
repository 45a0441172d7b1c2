// A tfjs LayersModel on disk (model.json + weight files) without tfjs-node: read and written with tf.io's
// in-memory handlers and node:fs.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { LoraError } from '@tfjs-lora/core';

async function read(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (e) {
    throw new LoraError(
      `Cannot read ${what} '${path}' (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); check the path.`,
    );
  }
}

/** Loads a LayersModel from its model.json (weights from the files its weightsManifest names, beside it). */
export async function loadModelFile(modelJsonPath: string): Promise<tfl.LayersModel> {
  let json: tf.io.ModelJSON;
  try {
    json = JSON.parse((await read(modelJsonPath, 'the model')).toString('utf8')) as tf.io.ModelJSON;
  } catch (e) {
    if (LoraError.isInstance(e)) throw e;
    throw new LoraError(
      `'${modelJsonPath}' is not JSON (${(e as Error).message}); expected a TensorFlow.js model.json.`,
    );
  }
  if (typeof json !== 'object' || json === null || !json.modelTopology || !Array.isArray(json.weightsManifest)) {
    throw new LoraError(
      `'${modelJsonPath}' is not a TensorFlow.js LayersModel model.json (expected modelTopology and weightsManifest).`,
    );
  }
  const dir = dirname(modelJsonPath);
  const artifacts = await tf.io.getModelArtifactsForJSON(json, async (manifest) => {
    const buffers: ArrayBuffer[] = [];
    for (const group of manifest) {
      for (const p of group.paths) {
        const b = await read(join(dir, p), 'a weights file');
        buffers.push(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer);
      }
    }
    return [manifest.flatMap((g) => g.weights), tf.io.concatenateArrayBuffers(buffers)];
  });
  return tfl.loadLayersModel(tf.io.fromMemory(artifacts));
}

/** Saves a LayersModel as `dir/model.json` + `dir/weights.bin` (the layout tf.loadLayersModel reads). */
export async function saveModelDir(model: tfl.LayersModel, dir: string): Promise<void> {
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      await mkdir(dir, { recursive: true });
      const modelJson = {
        modelTopology: artifacts.modelTopology,
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: 'tfjs-lora merge',
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }],
      };
      await writeFile(
        join(dir, 'weights.bin'),
        new Uint8Array(tf.io.concatenateArrayBuffers(artifacts.weightData ?? [])),
      );
      await writeFile(join(dir, 'model.json'), JSON.stringify(modelJson));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    }),
  );
}
