// README.md's example, run as written on the two-layer MLP GraphModel of test-support/dense-graph.ts.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { loadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter';
import { applyLora, loadPeftAdapter, loadPretrained, savePeftAdapter, train } from '@tfjs-lora/core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { denseTwins } from '../test-support/dense-graph.js';
import './index.js';

let dir: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = await mkdtemp(join(tmpdir(), 'graph-readme-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** Writes a GraphModel as model.json + weights.bin (what tensorflowjs_converter writes). */
async function writeGraph(graph: GraphModel, folder: string): Promise<void> {
  await graph.save(
    tf.io.withSaveHandler(async (a) => {
      const { mkdir } = await import('node:fs/promises');
      await mkdir(folder, { recursive: true });
      const json = {
        format: a.format,
        modelTopology: a.modelTopology,
        weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }],
      };
      await writeFile(join(folder, 'model.json'), JSON.stringify(json));
      await writeFile(join(folder, 'weights.bin'), new Uint8Array(tf.io.CompositeArrayBuffer.join(a.weightData!)));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
}

it('runs the README example', async () => {
  const twins = await denseTwins();
  twins.layers.dispose();
  const modelDir = join(dir, 'model');
  await writeGraph(twins.graph, modelDir);
  twins.graph.dispose();
  const [adapterDir, savedDir] = [join(dir, 'adapter'), join(dir, 'saved')];
  const x = tf.randomNormal([32, 5], 0, 1, 'float32', 1);
  const y = tf.randomNormal([32, 3], 0, 1, 'float32', 2);

  // --- README ---
  const graph = (await loadPretrained(modelDir)) as GraphModel; // a folder with a graph-model model.json
  const lora = applyLora(graph, { r: 4, loraAlpha: 8, targetModules: ['dense1', 'dense2'] });
  const count = lora.trainableParameters();
  const optimizer = tf.train.adam(0.01);
  const history = await train(lora, { x, y }, { optimizer, loss: 'meanSquaredError', epochs: 20 });
  await savePeftAdapter(lora, adapterDir);
  const adapter = await loadPeftAdapter(adapterDir);
  const again = applyLora(graph, adapter);
  adapter.dispose();
  const plain = await lora.mergeAndUnload();
  await writeGraph(plain, savedDir); // README: plain.save(savedDir) (file:// needs tfjs-node)
  // --- end ---

  expect(count).toEqual({ trainable: 4 * (5 + 6) + 4 * (6 + 3), total: 57 + 80, percent: (100 * 80) / 137 });
  expect(history.loss[history.loss.length - 1]!).toBeLessThan(history.loss[0]!);
  const json = JSON.parse(await readFile(join(savedDir, 'model.json'), 'utf8'));
  const bytes = await readFile(join(savedDir, 'weights.bin'));
  const reloaded = await loadGraphModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest[0].weights,
      weightData: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
    }),
  );
  const outs = [lora.predict(x), again.predict(x), plain.predict(x), reloaded.predict(x)] as tf.Tensor[];
  for (const o of outs.slice(1)) {
    const d = tf.tidy(() => tf.max(tf.abs(tf.sub(o, outs[0]!))));
    expect((await d.data())[0]).toBeLessThan(1e-5);
    d.dispose();
  }
  tf.dispose([...outs, x, y]);
  optimizer.dispose();
  [again, lora].forEach((m) => m.dispose());
  [plain, reloaded, graph].forEach((m) => m.dispose());
});
