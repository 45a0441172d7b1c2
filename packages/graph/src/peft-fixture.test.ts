// The graph's PEFT layouts against PEFT itself: an adapter saved by PEFT 0.21 for a PyTorch CNN
// (scripts/make-peft-fixture.py: Conv2d 3×3 + ReLU, Conv2d 1×1, mean, Linear) loads onto the same network
// as a GraphModel (module paths = node names) and gives PyTorch's outputs; saving it back gives PEFT's
// tensors. On cpu and wasm.
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter';
import { applyLora, loadPeftAdapter, type PeftAdapter } from '@tfjs-lora/core';
import { encodePeftAdapter, decodePeftAdapter } from '@tfjs-lora/core/peft';
import { readSafetensorsFile } from '@tfjs-lora/test-support';
import { constant, conv, graphArtifacts, matMul, node, placeholder } from '@tfjs-lora/test-support/graph-json';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, tryBackend } from '../test-support/backend.js';
import './index.js';

const dir = fileURLToPath(new URL('../fixtures/peft-conv/', import.meta.url));

async function maxDiff(a: tf.Tensor, b: tf.Tensor): Promise<number> {
  const d = tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))));
  const v = (await d.data())[0]!;
  d.dispose();
  return v;
}

/** The PyTorch network as a GraphModel, weights moved to tfjs layouts. */
async function netAsGraph(base: Record<string, tf.Tensor>): Promise<GraphModel> {
  const weights = tf.tidy(() => ({
    'conv1/w': tf.transpose(base['conv1.weight']!, [2, 3, 1, 0]),
    'conv1/b': base['conv1.bias']!,
    'conv2/w': tf.transpose(base['conv2.weight']!, [2, 3, 1, 0]),
    axes: tf.tensor1d([1, 2], 'int32'),
    'head/w': tf.transpose(base['head.weight']!),
    'head/b': base['head.bias']!,
  }));
  const artifacts = await graphArtifacts(
    [
      placeholder('x', [-1, 8, 8, 3]),
      ...Object.keys(weights).map((k) => constant(k, k === 'axes' ? 'DT_INT32' : 'DT_FLOAT')),
      conv('conv1', 'x', 'conv1/w', { strides: 2, padding: 1, bias: 'conv1/b', fused: { activation: 'Relu' } }),
      conv('conv2', 'conv1', 'conv2/w', { padding: 'VALID' }),
      node('pool', 'Mean', ['conv2', 'axes'], { T: { type: 'DT_FLOAT' }, keep_dims: { b: false } }),
      matMul('head', 'pool', 'head/w', 'head/b'),
      node('out', 'Identity', ['head']),
    ],
    weights,
  );
  tf.dispose([weights['conv1/w'], weights['conv2/w'], weights.axes, weights['head/w']]);
  return loadGraphModel(tf.io.fromMemory(artifacts));
}

for (const backend of BACKENDS) {
  describe(`PEFT-saved conv adapter on a GraphModel (${backend})`, () => {
    let why: string | null;
    let base: Record<string, tf.Tensor>;
    let expected: Record<string, tf.Tensor>;
    let graph: GraphModel;
    let adapter: PeftAdapter;
    let x: tf.Tensor;

    beforeAll(async () => {
      why = await tryBackend(backend);
      if (why !== null) return console.warn(`skipping ${backend}: ${why}`);
      base = readSafetensorsFile(`${dir}base.safetensors`);
      expected = readSafetensorsFile(`${dir}expected.safetensors`);
      graph = await netAsGraph(base);
      adapter = await loadPeftAdapter(`${dir}adapter`);
      x = tf.transpose(base['x']!, [0, 2, 3, 1]); // NCHW → NHWC
    });

    afterAll(() => {
      if (why !== null) return;
      graph.dispose();
      adapter.dispose();
      tf.dispose([x, ...Object.values(base), ...Object.values(expected)]);
    });

    it("gives PyTorch's outputs, with and without the adapter", async () => {
      if (why !== null) return;
      const lora = applyLora(graph, adapter);
      expect(lora.adaptedModules().sort()).toEqual(['conv1', 'conv2', 'head']);
      const y = lora.predict(x) as tf.Tensor;
      const y0 = lora.withAdaptersDisabled(() => lora.predict(x) as tf.Tensor);
      expect(await maxDiff(y0, expected['y_base']!)).toBeLessThan(1e-5);
      expect(await maxDiff(y, expected['y_lora']!)).toBeLessThan(1e-5);
      expect(await maxDiff(y, y0)).toBeGreaterThan(1e-3);
      tf.dispose([y, y0]);
      lora.dispose();
    });

    it("saves PEFT's tensors back, key for key", async () => {
      if (why !== null) return;
      const lora = applyLora(graph, adapter);
      const back = decodePeftAdapter(encodePeftAdapter(lora));
      expect(Object.keys(back.tensors).sort()).toEqual(Object.keys(adapter.tensors).sort());
      for (const [k, t] of Object.entries(adapter.tensors)) {
        expect(back.tensors[k]!.shape, k).toEqual(t.shape);
        expect(await maxDiff(back.tensors[k]!, t), k).toBe(0);
      }
      back.dispose();
      lora.dispose();
    });
  });
}
