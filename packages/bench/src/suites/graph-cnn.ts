// The experiment's MNIST CNN (@tfjs-lora/vision's buildMnistCnn) as the GraphModel tfjs-converter would
// make of it, for the `graph` bench: same weights, nodes _FusedConv2D+Relu, MaxPool, Reshape, _FusedMatMul.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { loadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter';
import { constant, conv, graphArtifacts, matMul, maxPool, node, placeholder } from '@tfjs-lora/test-support/graph-json';

/** The MNIST CNN's weights written as the GraphModel tfjs-converter would make of it. */
export async function cnnAsGraph(model: tfl.LayersModel): Promise<GraphModel> {
  const w = (layer: string, i: number) => model.getLayer(layer).getWeights()[i]!;
  const weights: Record<string, tf.Tensor> = {};
  for (const l of ['conv1', 'conv2', 'fc1', 'head'])
    [weights[`${l}/kernel`], weights[`${l}/bias`]] = [w(l, 0), w(l, 1)];
  weights['flatten/shape'] = tf.tensor1d([-1, 1600], 'int32');
  const artifacts = await graphArtifacts(
    [
      placeholder('x', [-1, 28, 28, 1]),
      ...Object.keys(weights).map((k) => constant(k, k === 'flatten/shape' ? 'DT_INT32' : 'DT_FLOAT')),
      conv('conv1', 'x', 'conv1/kernel', { padding: 'VALID', bias: 'conv1/bias', fused: { activation: 'Relu' } }),
      maxPool('pool1', 'conv1', 2),
      conv('conv2', 'pool1', 'conv2/kernel', { padding: 'VALID', bias: 'conv2/bias', fused: { activation: 'Relu' } }),
      maxPool('pool2', 'conv2', 2),
      node('flatten', 'Reshape', ['pool2', 'flatten/shape'], { T: { type: 'DT_FLOAT' }, Tshape: { type: 'DT_INT32' } }),
      matMul('fc1', 'flatten', 'fc1/kernel', 'fc1/bias', { activation: 'Relu' }),
      matMul('head', 'fc1', 'head/kernel', 'head/bias'),
      node('softmax', 'Softmax', ['head']),
    ],
    weights,
  );
  weights['flatten/shape'].dispose();
  return loadGraphModel(tf.io.fromMemory(artifacts));
}
