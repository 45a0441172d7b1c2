/// <reference types="node" />
// The small CNN of the domain-adaptation experiment: its architecture, and its MNIST-pretrained weights
// committed in models/mnist-cnn (written by scripts/pretrain-mnist-cnn.ts). Node only (reads files).
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { LoraError } from '@tfjs-lora/core';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** models/mnist-cnn of this package (the same path from src/experiments and dist/experiments). */
export const MNIST_CNN_FOLDER = fileURLToPath(new URL('../../models/mnist-cnn/', import.meta.url));

/**
 * conv1 (3×3, 32, ReLU) → 2×2 max-pool → conv2 (3×3, 64, ReLU) → 2×2 max-pool → flatten (1,600) →
 * fc1 (128, ReLU) → head (10, softmax). 225,034 parameters; input [28, 28, 1] in [0, 1].
 */
export function buildMnistCnn(seed = 1): tfl.Sequential {
  const init = (offset: number) => tfl.initializers.glorotUniform({ seed: seed + offset });
  return tfl.sequential({
    name: 'mnist_cnn',
    layers: [
      tfl.layers.conv2d({
        name: 'conv1',
        inputShape: [28, 28, 1],
        filters: 32,
        kernelSize: 3,
        activation: 'relu',
        kernelInitializer: init(1),
      }),
      tfl.layers.maxPooling2d({ name: 'pool1', poolSize: 2 }),
      tfl.layers.conv2d({ name: 'conv2', filters: 64, kernelSize: 3, activation: 'relu', kernelInitializer: init(2) }),
      tfl.layers.maxPooling2d({ name: 'pool2', poolSize: 2 }),
      tfl.layers.flatten({ name: 'flatten' }),
      tfl.layers.dense({ name: 'fc1', units: 128, activation: 'relu', kernelInitializer: init(3) }),
      tfl.layers.dense({ name: 'head', units: 10, activation: 'softmax', kernelInitializer: init(4) }),
    ],
  });
}

/** Saves a model as model.json + weights.bin in `folder` (tfjs's format, as `file://` would write it). */
export async function saveModelFiles(model: tfl.LayersModel, folder: string): Promise<void> {
  mkdirSync(folder, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      const data = a.weightData as ArrayBuffer;
      writeFileSync(join(folder, 'weights.bin'), new Uint8Array(data));
      const json = {
        modelTopology: a.modelTopology,
        format: a.format,
        generatedBy: a.generatedBy,
        convertedBy: a.convertedBy ?? null,
        weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }],
      };
      writeFileSync(join(folder, 'model.json'), JSON.stringify(json));
      return {
        modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: data.byteLength },
      };
    }),
  );
}

/** Loads model.json + weights.bin from `folder` (default: the committed pretrained CNN). */
export async function loadModelFiles(folder = MNIST_CNN_FOLDER): Promise<tfl.LayersModel> {
  const file = join(folder, 'model.json');
  if (!existsSync(file)) {
    throw new LoraError(
      `No model at ${file}: expected the committed pretrained CNN; run scripts/pretrain-mnist-cnn.ts to make it.`,
    );
  }
  const json = JSON.parse(readFileSync(file, 'utf8')) as {
    modelTopology: object;
    weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[];
  };
  const bytes = readFileSync(join(folder, 'weights.bin'));
  return tfl.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
      weightData: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
    }),
  );
}
