// A real IndexedDB round trip in Node: fake-indexeddb provides the IndexedDB API (the same one browsers
// have), and tfjs's own `indexeddb://` router is used with IS_BROWSER on for the duration of the test.
import 'fake-indexeddb/auto';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { peftCasePath } from '@tfjs-lora/test-support';
import { applyLora } from '../apply-lora.js';
import { loadPeftAdapter } from './load.js';
import { encodePeftAdapter, savePeftAdapter } from './save.js';

const LINEAR = join(peftCasePath('linear'), 'adapter');

describe('PEFT adapters in IndexedDB (fake-indexeddb)', () => {
  let wasBrowser: boolean;
  const g = globalThis as { self?: unknown };
  const hadSelf = 'self' in g;
  beforeAll(async () => {
    await tf.setBackend('cpu');
    wasBrowser = tf.env().getBool('IS_BROWSER');
    tf.env().set('IS_BROWSER', true);
    if (!hadSelf) g.self = globalThis; // tfjs finds indexedDB on `self` (a worker or window global)
  });
  afterAll(() => {
    tf.env().set('IS_BROWSER', wasBrowser);
    if (!hadSelf) delete g.self;
  });

  it('saves to indexeddb:// and loads back the same config and tensors', async () => {
    const reference = await loadPeftAdapter(LINEAR);
    const base = tfl.sequential({ layers: [tfl.layers.dense({ name: 'fc', units: 32, inputShape: [16] })] });
    const lm = applyLora(base, reference);
    await savePeftAdapter(lm, 'indexeddb://linear-adapter');
    const back = await loadPeftAdapter('indexeddb://linear-adapter');
    const want = encodePeftAdapter(lm);
    const base2 = tfl.sequential({ layers: [tfl.layers.dense({ name: 'fc', units: 32, inputShape: [16] })] });
    const lm2 = applyLora(base2, back);
    const got = encodePeftAdapter(lm2);
    expect(got.config).toEqual(want.config);
    expect(Buffer.from(got.weights as Uint8Array).equals(Buffer.from(want.weights as Uint8Array))).toBe(true);
    for (const m of [lm, lm2, base, base2]) m.dispose();
    reference.dispose();
    back.dispose();
  });
});
