// The README's Hugging Face example, as written there (loadPretrained('hf://...'), loadPeftAdapter, applyLora),
// against a local server with the Hub's URL layout serving fixtures/hf/vit-cls as google/vit-base-patch16-224.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { createServer, type Server } from 'node:http';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { applyLora, loadPeftAdapter, loadPretrained } from '@tfjs-lora/core';
import { hfFixture, maxAbsDiff, readReference } from '../../test-support/hf-fixtures.js';
import '../index.js';

let server: Server;
let endpoint: string;
let adapterDir: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  server = createServer((req, res) => {
    const m = /^\/google\/vit-base-patch16-224\/resolve\/main\/(.+)$/.exec(req.url!);
    if (!m) return void res.writeHead(404).end();
    readFile(hfFixture('vit-cls', decodeURIComponent(m[1]!)))
      .then((b) => res.writeHead(200).end(b))
      .catch(() => res.writeHead(404).end());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  adapterDir = await mkdtemp(join(tmpdir(), 'my-vit-lora-'));
  await cp(hfFixture('vit-cls', 'adapter-v4'), adapterDir, { recursive: true });
});
afterAll(async () => {
  server.close();
  await rm(adapterDir, { recursive: true, force: true });
});

it('README Hugging Face example', async () => {
  const ref = readReference('vit-cls');
  const pixelValues = ref['pixel_values']!;
  const before = tf.memory().numTensors;
  // the README's lines (the test passes the local endpoint and the adapter's temporary folder)
  const model = (await loadPretrained('hf://google/vit-base-patch16-224', {
    hubEndpoint: endpoint,
  })) as tfl.LayersModel;
  const adapter = await loadPeftAdapter(adapterDir);
  const lora = applyLora(model, adapter);
  const logits = lora.predict(pixelValues) as tf.Tensor;
  adapter.dispose();
  expect(model.inputNames).toEqual(['pixel_values']);
  expect(pixelValues.shape).toEqual([2, 16, 16, 3]); // NHWC
  expect(await maxAbsDiff(logits, ref['logits_lora']!)).toBeLessThan(1e-4);
  logits.dispose();
  lora.dispose();
  model.dispose();
  expect(tf.memory().numTensors).toBe(before);
  tf.dispose(Object.values(ref));
});
