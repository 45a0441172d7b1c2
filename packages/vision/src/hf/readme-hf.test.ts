// The README's Hugging Face example, as written there (loadPretrained('hf://...'), loadPeftAdapter, applyLora),
// against a local server with the Hub's URL layout serving fixtures/hf/vit-cls as google/vit-base-patch16-224.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { applyLora, loadPeftAdapter, loadPretrained } from '@tfjs-lora/core';
import { startHubServer, type HubServer } from '@tfjs-lora/test-support';
import { hfFixture, maxAbsDiff, readReference } from '../../test-support/hf-fixtures.js';
import '../index.js';

let hub: HubServer;
let adapterDir: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  hub = await startHubServer((repo, file) =>
    repo === 'google/vit-base-patch16-224' ? hfFixture('vit-cls', file) : undefined,
  );
  adapterDir = await mkdtemp(join(tmpdir(), 'my-vit-lora-'));
  await cp(hfFixture('vit-cls', 'adapter-v4'), adapterDir, { recursive: true });
});
afterAll(async () => {
  await hub.close();
  await rm(adapterDir, { recursive: true, force: true });
});

it('README Hugging Face example', async () => {
  const ref = readReference('vit-cls');
  const pixelValues = ref['pixel_values']!;
  const before = tf.memory().numTensors;
  // the README's lines (the test passes the local endpoint and the adapter's temporary folder)
  const model = (await loadPretrained('hf://google/vit-base-patch16-224', {
    hubEndpoint: hub.endpoint,
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
