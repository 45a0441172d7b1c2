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

/** The nsfwjs GraphModel's classes (same head as the layers model: 5-way softmax). */
export const MOBILENET_GRAPH_PREFIX =
  'StatefulPartitionedCall/sequential/keras_layer/StatefulPartitionedCall/StatefulPartitionedCall/StatefulPartitionedCall/predict/MobilenetV2/';

/**
 * The artifacts of nsfwjs@4.3.0's `mobilenet_v2_mid` GraphModel (dist/models/mobilenet_v2_mid: a UMD
 * model.json and two base64 shards): a TF-Hub MobileNetV2 (width 1.4) with batch norm folded into
 * `_FusedConv2D`/`FusedDepthwiseConv2dNative` nodes, uint8-quantised weights, a `_FusedMatMul` head.
 * 224×224×3 input in [0, 1], 5 classes. Load with `tf.loadGraphModel(tf.io.fromMemory(artifacts))`.
 */
export function mobileNetV2GraphArtifacts(): tf.io.ModelArtifacts {
  const dist = dirname(dirname(require.resolve('nsfwjs')));
  const folder = join(dist, 'models', 'mobilenet_v2_mid');
  const json = require(join(folder, 'model.min.js')) as BundledModel & { format: string };
  const shards = json.weightsManifest.flatMap((g) =>
    g.paths.map((p) => Buffer.from(require(join(folder, `${p}.min.js`)) as string, 'base64')),
  );
  const bytes = Buffer.concat(shards);
  return {
    format: json.format,
    modelTopology: json.modelTopology,
    weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
    weightData: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
  };
}
