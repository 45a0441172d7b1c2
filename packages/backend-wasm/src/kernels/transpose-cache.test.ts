// BatchMatMul's cached transposes on wasm: results against the cpu backend when the same operands come
// back (cache hits), after weight updates (assign, merge/unmerge, setWeights), and no growth over steps.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { maxDiff, setUpBackends, values } from '../../test-support/kernel-check.js';
import { clearTransposeCache, setTransposeCacheEnabled, transposeCacheStats } from './transpose-cache.js';

/** Runs `body` on cpu and on wasm; returns what each produced (arrays of values). */
async function onBothBackends(body: () => number[][]): Promise<{ cpu: number[][]; wasm: number[][] }> {
  await tf.setBackend('cpu');
  const cpu = body();
  await tf.setBackend('wasm');
  const wasm = body();
  return { cpu, wasm };
}

function expectClose(a: number[][], b: number[][], tol = 1e-4): void {
  expect(a.length).toBe(b.length);
  a.forEach((x, i) => {
    expect(x.length).toBe(b[i].length);
    expect(maxDiff(x, b[i])).toBeLessThan(tol);
  });
}

const read = (t: tf.Tensor) => Array.from(t.dataSync());

/** Random products: both transpose flags, batch dims (broadcast), odd sizes. */
function cases(count: number): { a: number[]; b: number[]; ta: boolean; tb: boolean }[] {
  const r = values(count * 8, 31);
  let k = 0;
  const next = (n: number) => 1 + Math.floor(((r[k++] + 1) / 2) * n);
  return Array.from({ length: count }, (_, i) => {
    const [m, kk, n] = [next(70), next(70), next(70)];
    const batch = i % 3 === 0 ? [] : i % 3 === 1 ? [next(3)] : [2, next(2)];
    const bBatch = i % 4 === 2 ? batch.map(() => 1) : batch;
    const ta = i % 2 === 1;
    const tb = i % 4 >= 2 || i % 5 === 0;
    return { a: [...batch, ...(ta ? [kk, m] : [m, kk])], b: [...bBatch, ...(tb ? [n, kk] : [kk, n])], ta, tb };
  });
}

describe('BatchMatMul transpose cache (wasm) vs cpu', () => {
  beforeAll(setUpBackends);

  it.each(cases(16).map((c) => [`a ${c.a}${c.ta ? 'ᵀ' : ''} · b ${c.b}${c.tb ? 'ᵀ' : ''}, three times`, c] as const))(
    '%s',
    async (_n, c) => {
      const { cpu, wasm } = await onBothBackends(() => {
        const a = tf.tensor(values(tf.util.sizeFromShape(c.a), 3), c.a);
        const b = tf.tensor(values(tf.util.sizeFromShape(c.b), 4), c.b);
        const outs = [0, 1, 2].map(() => tf.tidy(() => read(tf.matMul(a, b, c.ta, c.tb))));
        tf.dispose([a, b]);
        return outs;
      });
      expectClose(wasm, cpu);
    },
  );

  it('keeps a transpose from the second use, reuses it, and drops it once the source is gone', async () => {
    await tf.setBackend('wasm');
    clearTransposeCache();
    const w = tf.tensor(values(40 * 30, 5), [40, 30]);
    const dy = tf.tensor(values(8 * 30, 6), [8, 30]);
    const ids0 = tf.engine().backend.numDataIds();
    const step = () => tf.tidy(() => read(tf.matMul(dy, w, false, true)));
    const first = step();
    expect(transposeCacheStats().entries).toBe(0);
    step();
    expect(transposeCacheStats()).toEqual({ entries: 1, bytes: 4 * 40 * 30 }); // wᵀ; dy is never transposed
    const third = step();
    expect(third).toEqual(first);
    expect(tf.engine().backend.numDataIds() - ids0).toBe(1);
    w.dispose();
    expect(transposeCacheStats().entries).toBe(1); // freed at the next transposed product
    tf.tidy(() => void tf.matMul(dy, dy, false, true));
    expect(transposeCacheStats().entries).toBe(0);
    expect(tf.engine().backend.numDataIds()).toBe(ids0 - 1);
    tf.tidy(() => void tf.matMul(dy, dy, false, true)); // dy's second transposed use: kept
    expect(transposeCacheStats().entries).toBe(1);
    clearTransposeCache();
    expect(transposeCacheStats().entries).toBe(0);
    expect(tf.engine().backend.numDataIds()).toBe(ids0 - 1);
    dy.dispose();
  });

  it('one buffer under two shapes (a reshape view) gets the right transpose for each', async () => {
    const { cpu, wasm } = await onBothBackends(() => {
      const w = tf.tensor(values(24 * 10, 8), [24, 10]);
      const v = tf.reshape(w, [12, 20]);
      const outs: number[][] = [];
      for (let i = 0; i < 3; i++) {
        outs.push(tf.tidy(() => read(tf.matMul(tf.ones([2, 10]), w, false, true))));
        outs.push(tf.tidy(() => read(tf.matMul(tf.ones([2, 20]), v, false, true))));
      }
      tf.dispose([w, v]);
      return outs;
    });
    expectClose(wasm, cpu);
  });

  it('follows weight updates: assign, merge and unmerge of a delta, and a layer setWeights', async () => {
    const { cpu, wasm } = await onBothBackends(() => {
      const outs: number[][] = [];
      const dy = tf.tensor(values(6 * 16, 9), [6, 16]);
      const product = (w: tf.Tensor) => tf.tidy(() => read(tf.matMul(dy, w, false, true)));
      const w = tf.tidy(() => tf.variable(tf.tensor(values(16 * 12, 10), [12, 16]), false));
      for (let i = 0; i < 3; i++) outs.push(product(w));
      tf.tidy(() => w.assign(tf.tensor(values(16 * 12, 11), [12, 16])));
      for (let i = 0; i < 3; i++) outs.push(product(w));
      const delta = tf.tidy(() => tf.mul(tf.tensor(values(16 * 12, 12), [12, 16]), 0.5));
      tf.tidy(() => w.assign(tf.add(w, delta))); // merge
      for (let i = 0; i < 2; i++) outs.push(product(w));
      tf.tidy(() => w.assign(tf.sub(w, delta))); // unmerge
      for (let i = 0; i < 2; i++) outs.push(product(w));
      const dense = tfl.layers.dense({ units: 16, inputShape: [12], useBias: false });
      dense.build([null, 12]);
      tf.tidy(() => dense.setWeights([tf.tensor(values(12 * 16, 13), [12, 16])]));
      const k = () => dense.getWeights()[0];
      for (let i = 0; i < 2; i++) outs.push(tf.tidy(() => read(tf.matMul(dy, k(), false, true))));
      tf.tidy(() => dense.setWeights([tf.tensor(values(12 * 16, 14), [12, 16])]));
      for (let i = 0; i < 2; i++) outs.push(tf.tidy(() => read(tf.matMul(dy, k(), false, true))));
      dense.weights.forEach((v) => v.dispose());
      tf.dispose([dy, w, delta]);
      return outs;
    });
    expectClose(wasm, cpu);
  });

  it('a LoRA-style training loop (frozen W, Adam on A and B) matches cpu and does not grow', async () => {
    const run = async (backend: string) => {
      await tf.setBackend(backend);
      const x = tf.tensor(values(16 * 20, 15), [16, 20]);
      const y = tf.tensor(values(16 * 12, 16), [16, 12]);
      const w = tf.tidy(() => tf.variable(tf.tensor(values(20 * 12, 17), [20, 12]), false));
      const a = tf.tidy(() => tf.variable(tf.mul(tf.tensor(values(20 * 4, 18), [20, 4]), 0.1)));
      const b = tf.tidy(() => tf.variable(tf.zeros([4, 12])));
      const opt = tf.train.adam(0.01);
      const losses: number[] = [];
      const sizes: number[][] = [];
      for (let i = 0; i < 12; i++) {
        const loss = opt.minimize(
          () => tf.losses.meanSquaredError(y, tf.add(tf.matMul(x, w), tf.matMul(tf.matMul(x, a), b))) as tf.Scalar,
          true,
          [a, b],
        )!;
        losses.push(loss.dataSync()[0]);
        loss.dispose();
        sizes.push([tf.memory().numTensors, tf.engine().backend.numDataIds()]);
      }
      const stats = transposeCacheStats();
      opt.dispose();
      tf.dispose([x, y, w, a, b]);
      return { losses, sizes, stats };
    };
    const cpu = await run('cpu');
    const wasm = await run('wasm');
    expect(maxDiff(wasm.losses, cpu.losses)).toBeLessThan(1e-5);
    expect(wasm.losses.at(-1)!).toBeLessThan(wasm.losses[0]);
    for (const s of wasm.sizes.slice(3)) expect(s).toEqual(wasm.sizes[2]);
    expect(wasm.stats.entries).toBeGreaterThan(0); // Wᵀ (and the fixed x) are reused
  });

  it('a size-1 operand used as weights under both shapes (tfjs keys packed weights by buffer)', async () => {
    const { cpu, wasm } = await onBothBackends(() => {
      const b = tf.tensor(values(10, 21), [1, 10]);
      const outs: number[][] = [];
      for (let i = 0; i < 3; i++) {
        outs.push(tf.tidy(() => read(tf.matMul(tf.ones([4, 1]), b)))); // b as [1, 10] weights
        outs.push(tf.tidy(() => read(tf.matMul(tf.ones([4, 10]), b, false, true)))); // bᵀ as [10, 1] weights
        outs.push(tf.tidy(() => read(tf.matMul(tf.ones([4, 10]), tf.transpose(b))))); // the same through Transpose
      }
      b.dispose();
      return outs;
    });
    expectClose(wasm, cpu);
  });

  it('keeps a transpose of a size-1 operand like any other, and frees it with its source', async () => {
    await tf.setBackend('wasm');
    clearTransposeCache();
    const ids0 = tf.engine().backend.numDataIds();
    const w = tf.tensor(values(10, 20), [1, 10]);
    for (let i = 0; i < 3; i++) tf.tidy(() => void tf.matMul(tf.ones([2, 10]), w, false, true));
    expect(transposeCacheStats().entries).toBe(1);
    w.dispose();
    tf.tidy(() => void tf.matMul(tf.ones([2, 10]), tf.ones([3, 10]), false, true)); // sweeps
    expect(transposeCacheStats().entries).toBe(0);
    expect(tf.engine().backend.numDataIds()).toBe(ids0);
  });

  it('can be turned off', async () => {
    await tf.setBackend('wasm');
    setTransposeCacheEnabled(false);
    try {
      const w = tf.tensor(values(50, 19), [5, 10]);
      for (let i = 0; i < 3; i++) tf.tidy(() => void tf.matMul(tf.ones([2, 10]), w, false, true));
      expect(transposeCacheStats().entries).toBe(0);
      w.dispose();
    } finally {
      setTransposeCacheEnabled(true);
    }
  });
});
