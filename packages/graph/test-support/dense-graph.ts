// A two-layer MLP as a tfjs LayersModel and as the GraphModel tfjs-converter would make of it
// (dense1: _FusedMatMul with BiasAdd+Relu; dense2: MatMul then BiasAdd), with the same weights. Graph
// node names are the layer names, so module paths agree between the two.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { loadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter';
import { constant, graphArtifacts, matMul, node, placeholder } from '@tfjs-lora/test-support/graph-json';

/** The LayersModel and the GraphModel. */
export async function denseTwins(
  options: { quantize?: boolean } = {},
): Promise<{ layers: tfl.LayersModel; graph: GraphModel }> {
  const layers = tfl.sequential({
    layers: [
      tfl.layers.dense({ units: 6, inputShape: [5], activation: 'relu', name: 'dense1' }),
      tfl.layers.dense({ units: 3, name: 'dense2' }),
    ],
  });
  const [k1, , k2] = layers.getWeights();
  // Non-zero biases, so the fused epilogue matters.
  const bias1 = tf.randomUniform([6], -0.5, 0.5, 'float32', 3);
  const bias2 = tf.randomUniform([3], -0.5, 0.5, 'float32', 4);
  layers.setWeights([k1!, bias1, k2!, bias2]);
  const artifacts = await graphArtifacts(
    [
      placeholder('x', [-1, 5]),
      constant('dense1/kernel'),
      constant('dense1/bias'),
      constant('dense2/kernel'),
      constant('dense2/bias'),
      matMul('dense1', 'x', 'dense1/kernel', 'dense1/bias', { activation: 'Relu' }),
      matMul('dense2', 'dense1', 'dense2/kernel'),
      node('dense2_bias', 'BiasAdd', ['dense2', 'dense2/bias']),
      node('out', 'Identity', ['dense2_bias']),
    ],
    { 'dense1/kernel': k1!, 'dense1/bias': bias1, 'dense2/kernel': k2!, 'dense2/bias': bias2 },
    { quantize: options.quantize ? ['dense1/kernel'] : [] },
  );
  tf.dispose([bias1, bias2]);
  const graph = await loadGraphModel(tf.io.fromMemory(artifacts));
  if (options.quantize) {
    // The LayersModel gets the dequantised kernel the GraphModel holds.
    const old = layers.getWeights();
    layers.setWeights([graph.weights['dense1/kernel']![0]!, old[1]!, old[2]!, old[3]!]);
  }
  return { layers, graph };
}
