// Shared by vision's MobileNetV2 test and the vision-cnn benchmark (`@tfjs-lora/test-support/mobilenet-v2`).
// The Keras MobileNetV2 *layers* model bundled by nsfwjs@4.3.0 (dist/models/mobilenet_v2: a UMD module
// with the topology and one base64 weight shard, uint8-quantised), loaded with tf.io.fromMemory.
// 224×224×3 input, 5-way softmax head (dense_1 256 → dense_2 128 → dense_3 5). Node only.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

interface BundledModel {
  modelTopology: tf.io.ModelArtifacts['modelTopology'];
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
}

/** Pointwise (1×1) convolutions of MobileNetV2: the expand and project convolutions and Conv_1. */
export const MOBILENET_POINTWISE = '.*_(expand|project)|Conv_1';
/** The classifier head of the nsfwjs model. */
export const MOBILENET_HEAD = 'dense_[123]';

/** Loads the bundled MobileNetV2 as a trainable tf.LayersModel (no training config). */
export async function loadMobileNetV2(): Promise<tfl.LayersModel> {
  const dist = dirname(dirname(require.resolve('nsfwjs'))); // …/nsfwjs/dist
  const folder = join(dist, 'models', 'mobilenet_v2');
  const bundled = require(join(folder, 'model.min.js')) as BundledModel;
  const shard = require(join(folder, 'group1-shard1of1.min.js')) as string;
  const bytes = Buffer.from(shard, 'base64');
  const topology = { ...(bundled.modelTopology as Record<string, unknown>) };
  delete topology['training_config'];
  return tfl.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: topology,
      weightSpecs: bundled.weightsManifest.flatMap((g) => g.weights),
      weightData: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
    }),
  );
}
