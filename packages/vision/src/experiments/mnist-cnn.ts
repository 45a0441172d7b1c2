/// <reference types="node" />
// The small CNN of the domain-adaptation experiment: its architecture, and its MNIST-pretrained weights
// committed in models/mnist-cnn (written by scripts/pretrain-mnist-cnn.ts). Node only (reads files).
import * as tfl from '@tensorflow/tfjs-layers';
import { LoraError } from '@tfjs-lora/core';
import { loadModelFiles as loadModelFolder, saveModelFiles as saveModelFolder } from '@tfjs-lora/core/node';
import { existsSync } from 'node:fs';
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

/**
 * Loads the CNN from `folder` (default: the committed pretrained CNN): model.json + weights.bin, read with
 * core's model folder loader.
 */
export async function loadMnistCnn(folder = MNIST_CNN_FOLDER): Promise<tfl.LayersModel> {
  if (!existsSync(join(folder, 'model.json'))) {
    throw new LoraError(
      `No model at ${join(folder, 'model.json')}: expected the committed pretrained CNN; run scripts/pretrain-mnist-cnn.ts to make it.`,
    );
  }
  return (await loadModelFolder(folder)).model;
}

/** @deprecated use {@link loadMnistCnn} (or `loadModelFiles` of `@tfjs-lora/core/node` for any folder); removed in 0.3 */
export const loadModelFiles: typeof loadMnistCnn = loadMnistCnn;
/** @deprecated use `saveModelFiles` of `@tfjs-lora/core/node`; removed in 0.3 */
export const saveModelFiles: typeof saveModelFolder = saveModelFolder;
