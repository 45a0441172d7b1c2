import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { maxAbsDiff } from '@tfjs-lora/test-support';
import {
  activeKernels,
  activeLoraBackend,
  listLoraBackends,
  registerLoraBackend,
  unregisterLoraBackend,
  useBackend,
  type LoraBackend,
} from './backend.js';
import { BackendUnavailableError, LoraError } from './errors/index.js';
import { composedLoraMatMul, composedMultiAdapterMatMul } from './kernels.js';
import { applyLora } from './apply-lora.js';

const registered: string[] = [];
function register(b: LoraBackend): void {
  registerLoraBackend(b);
  registered.push(b.name);
}

afterEach(async () => {
  registered.splice(0).forEach(unregisterLoraBackend);
  await tf.setBackend('cpu');
});

describe('LoRA backend registry', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('has cpu built in and resolves auto to the best available backend', async () => {
    expect(listLoraBackends().map((b) => b.name)).toContain('cpu');
    const b = await useBackend('auto');
    expect(b.name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
  });

  it('skips unavailable higher-priority backends and throws ONE error listing every candidate and why', async () => {
    let inits = 0;
    register({
      name: 'gpu-x',
      tfBackend: 'gpu-x',
      priority: 100,
      isAvailable: async () => ({ ok: false, reason: 'no navigator.gpu' }),
      init: async () => {},
    });
    register({
      name: 'broken',
      tfBackend: 'broken',
      priority: 50,
      isAvailable: async () => ({ ok: true }),
      init: async () => {
        inits++;
        throw new Error('libfoo.so missing');
      },
    });
    expect((await useBackend('auto')).name).toBe('cpu');
    const err = await useBackend(['gpu-x', 'broken', 'nope']).catch((e) => e);
    expect(err).toBeInstanceOf(BackendUnavailableError);
    expect(BackendUnavailableError.isInstance(err)).toBe(true);
    expect(err.attempts.map((a: { name: string }) => a.name)).toEqual(['gpu-x', 'broken', 'nope']);
    expect(err.message).toMatch(/gpu-x: no navigator.gpu/);
    expect(err.message).toMatch(/broken: init\(\) failed: libfoo.so missing/);
    expect(err.message).toMatch(/nope: not registered/);
    expect(inits).toBe(1); // failures are remembered: init ran once across both calls
  });

  it('refuses a second backend under a taken name unless override', () => {
    const a: LoraBackend = {
      name: 'dup',
      tfBackend: 'cpu',
      priority: -1,
      isAvailable: async () => ({ ok: true }),
      init: async () => {},
    };
    register(a);
    register(a); // same object: no-op
    expect(() => registerLoraBackend({ ...a })).toThrow(LoraError);
    registerLoraBackend({ ...a }, { override: true });
  });

  it("core uses the active backend's fused loraMatMul, and its result equals the composed ops", async () => {
    let calls = 0;
    register({
      name: 'cpu-fused',
      tfBackend: 'cpu',
      priority: 1,
      isAvailable: async () => ({ ok: true }),
      init: async () => {},
      kernels: {
        loraMatMul: (args) => {
          calls++;
          return composedLoraMatMul(args);
        },
      },
    });
    await useBackend('cpu-fused');
    expect(activeLoraBackend()?.name).toBe('cpu-fused');
    expect(activeKernels().loraMatMul).toBeDefined();
    const base = tfl.sequential({
      layers: [tfl.layers.dense({ name: 'fc', units: 4, inputShape: [5], activation: 'tanh' })],
    });
    const lm = applyLora(base, { targetModules: ['fc'], r: 2, initLoraWeights: false });
    const x = tf.randomNormal([3, 5], 0, 1, 'float32', 1);
    const fused = lm.model.predict(x) as tf.Tensor;
    expect(calls).toBe(1);
    unregisterLoraBackend('cpu-fused');
    registered.pop();
    const composed = lm.model.predict(x) as tf.Tensor;
    expect(calls).toBe(1);
    expect(maxAbsDiff(fused, composed)).toBeLessThan(1e-6);
    tf.dispose([x, fused, composed]);
    lm.dispose();
    base.dispose();
  });

  it('composedMultiAdapterMatMul equals a per-row loop, with -1 rows giving zeros', () => {
    const before = tf.memory().numTensors;
    const x = tf.randomNormal([5, 4], 0, 1, 'float32', 3) as tf.Tensor2D;
    const a = tf.randomNormal([2, 4, 3], 0, 1, 'float32', 4) as tf.Tensor3D;
    const b = tf.randomNormal([2, 3, 6], 0, 1, 'float32', 5) as tf.Tensor3D;
    const scalings = tf.tensor1d([0.5, 2]);
    const idx = tf.tensor1d([1, -1, 0, 1, 0], 'int32');
    const got = composedMultiAdapterMatMul({ x, loraA: a, loraB: b, scalings, adapterIndex: idx });
    const rows = [1, -1, 0, 1, 0].map((k, i) =>
      tf.tidy(() => {
        const xi = tf.slice(x, [i, 0], [1, 4]);
        if (k < 0) return tf.zeros([1, 6]);
        const ak = tf.squeeze(tf.slice(a, [k, 0, 0], [1, 4, 3]), [0]);
        const bk = tf.squeeze(tf.slice(b, [k, 0, 0], [1, 3, 6]), [0]);
        return tf.mul(tf.matMul(tf.matMul(xi, ak), bk), [0.5, 2][k]);
      }),
    );
    const want = tf.concat(rows);
    expect(maxAbsDiff(got, want)).toBeLessThan(1e-5);
    tf.dispose([x, a, b, scalings, idx, got, want, ...rows]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
