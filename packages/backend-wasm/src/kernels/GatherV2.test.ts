// The heap-copy GatherV2 on wasm against the cpu backend: random shapes, axes, batchDims, dtypes, indices.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers'; // registers the gradients
import { beforeAll, describe, expect, it } from 'vitest';
import { gradientOnBoth, onBoth, setUpBackends, values } from '../../test-support/kernel-check.js';
import { gatherBlocks, gatherV2 } from './GatherV2.js';
import { originalKernel } from './originals.js';

const DTYPES = ['float32', 'int32', 'bool'] as const;
type Case = {
  shape: number[];
  indexShape: number[];
  ids: number[];
  axis: number;
  batchDims: number;
  dtype: (typeof DTYPES)[number];
};

/**
 * Deterministic random cases: x of rank 1–4 (sizes 0–6, some 0 and 1), an axis (negative
 * sometimes), batchDims up to the axis (its leading sizes shared by x and the indices), 0–2 more
 * index axes (so scalar, empty and repeated indices occur), indices in range, a dtype.
 */
function cases(count: number): Case[] {
  const r = values(count * 60, 47);
  let k = 0;
  const next = () => (r[k++] + 1) / 2;
  const int = (n: number) => Math.floor(next() * n);
  return Array.from({ length: count }, (_, i) => {
    const rank = 1 + int(4);
    const shape = Array.from({ length: rank }, () => (next() < 0.08 ? 0 : next() < 0.15 ? 1 : 1 + int(6)));
    const axis = int(rank);
    let batchDims = int(axis + 1);
    // An empty batch makes both tfjs kernels throw in a reshape (a fixed case below); keep batches here.
    if (tf.util.sizeFromShape(shape.slice(0, batchDims)) === 0) batchDims = 0;
    const extra = Array.from({ length: int(3) }, () => (next() < 0.1 ? 0 : 1 + int(4)));
    if (shape[axis] === 0) extra.push(0); // only no index is in range of an empty axis
    const indexShape = [...shape.slice(0, batchDims), ...extra];
    const ids = Array.from({ length: tf.util.sizeFromShape(indexShape) }, () => int(shape[axis]));
    return { shape, indexShape, ids, axis: next() < 0.3 ? axis - rank : axis, batchDims, dtype: DTYPES[i % 3] };
  });
}

const seq = (n: number, f: (i: number) => number) => Array.from({ length: n }, (_, i) => f(i));
const FIXED: Case[] = [
  {
    shape: [4096, 784],
    indexShape: [64],
    ids: seq(64, (i) => (i * 997) % 4096),
    axis: 0,
    batchDims: 0,
    dtype: 'float32',
  }, // fit's batch of x
  {
    shape: [4096, 10],
    indexShape: [64],
    ids: seq(64, (i) => (i * 997) % 4096),
    axis: 0,
    batchDims: 0,
    dtype: 'float32',
  }, // and of y
  {
    shape: [65, 64],
    indexShape: [64, 32],
    ids: seq(2048, (i) => (i * 7) % 65),
    axis: 0,
    batchDims: 0,
    dtype: 'float32',
  }, // an embedding
  { shape: [6, 5], indexShape: [7], ids: [1, 1, 1, 0, 5, 5, 2], axis: 0, batchDims: 0, dtype: 'int32' }, // repeated rows
  { shape: [6, 5], indexShape: [0], ids: [], axis: 0, batchDims: 0, dtype: 'float32' }, // no index
  { shape: [6, 5], indexShape: [], ids: [3], axis: 1, batchDims: 0, dtype: 'float32' }, // a scalar index: the axis goes
  { shape: [3, 4, 5, 6], indexShape: [2, 3], ids: [5, 0, 0, 2, 5, 1], axis: -1, batchDims: 0, dtype: 'bool' }, // last axis
  {
    shape: [3, 4, 20, 2],
    indexShape: [3, 4, 3],
    ids: seq(36, (i) => (i * 13) % 20),
    axis: 2,
    batchDims: 2,
    dtype: 'float32',
  }, // batchDims 2
  { shape: [3, 7, 5], indexShape: [3, 4], ids: seq(12, (i) => (i * 3) % 7), axis: 1, batchDims: -1, dtype: 'int32' }, // batchDims −1 (= 1)
  { shape: [3, 0], indexShape: [2], ids: [2, 0], axis: 0, batchDims: 0, dtype: 'float32' }, // empty x, rows of nothing
  { shape: [0, 4], indexShape: [0], ids: [], axis: 0, batchDims: 0, dtype: 'int32' }, // empty axis, no index
  { shape: [9], indexShape: [4], ids: [8, 0, 8, 3], axis: 0, batchDims: 0, dtype: 'bool' }, // rank 1
];

describe('GatherV2 (wasm, heap copy) vs cpu', () => {
  beforeAll(setUpBackends);

  it('replaces the wasm kernel', () => {
    expect(tf.getKernel('GatherV2', 'wasm')?.kernelFunc).toBe(gatherV2);
  });

  it.each(
    [...FIXED, ...cases(60)].map(
      (c) => [`${c.dtype} ${c.shape} axis ${c.axis} batchDims ${c.batchDims} indices ${c.indexShape}`, c] as const,
    ),
  )('%s', async (_n, c) => {
    const inputs = {
      x: { shape: c.shape, dtype: c.dtype, seed: 13 },
      indices: { shape: c.indexShape, dtype: 'int32' as const, data: c.ids },
    };
    const { cpu, wasm } = await onBoth('GatherV2', inputs, { axis: c.axis, batchDims: c.batchDims });
    expect(wasm.shape).toEqual(cpu.shape);
    expect(Array.from(wasm.data)).toEqual(Array.from(cpu.data));
    expect(wasm.leakedTensors).toBe(0);
    expect(wasm.leakedDataIds).toBe(0);
  });

  it('sees x as [batch, outer, dim, slice] blocks as tfjs does', () => {
    const x = { dataId: {}, shape: [3, 4, 20, 2], dtype: 'float32' as const };
    const indices = { dataId: {}, shape: [3, 4, 5], dtype: 'int32' as const };
    expect(gatherBlocks(x, indices, 2, 1)).toEqual({
      batchSize: 3,
      outerSize: 4,
      dimSize: 20,
      sliceSize: 2,
      perBatch: 20,
      outputShape: [3, 4, 4, 5, 2],
    });
  });

  it("throws for out-of-range and negative indices as cpu does (tfjs-backend-wasm's kernel), and leaves nothing behind", async () => {
    const attempt = async (backend: string, x: number[], ids: number[], axis: number, batchDims = 0) => {
      await tf.setBackend(backend);
      const t = tf.ones(x);
      const i = tf.tensor(ids, [ids.length], 'int32');
      const tensors = tf.memory().numTensors;
      const dataIds = tf.engine().backend.numDataIds();
      let message = '';
      try {
        tf.gather(t, i, axis, batchDims).dispose();
      } catch (e) {
        message = (e as Error).message;
      }
      const leaked = tf.memory().numTensors - tensors + tf.engine().backend.numDataIds() - dataIds;
      tf.dispose([t, i]);
      return { message, leaked };
    };
    for (const [x, ids, axis] of [
      [[4, 3], [1, 4], 0],
      [[4, 3], [0, -1], 0],
      [[4, 3], [3], 1],
      [[2, 0], [0], 1],
    ] as [number[], number[], number][]) {
      const cpu = await attempt('cpu', x, ids, axis);
      const wasm = await attempt('wasm', x, ids, axis);
      expect(cpu.message).toMatch(/^GatherV2: the index value -?\d+ is not in \[0, -?\d+\]$/);
      expect(wasm).toEqual({ message: cpu.message, leaked: 0 });
    }
    // An empty batch: both tfjs kernels throw in their reshape (the messages differ by backend).
    const empty = await attempt('wasm', [0, 3], [], 1, 1);
    expect(empty.message).toMatch(/new shape/);
    expect(empty.leaked).toBe(0);
  });

  it('is a copy, not a view, even of a whole tensor: the output has its own buffer and outlives the input', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor2d(values(6 * 4, 5), [6, 4]);
    const expected = Array.from(x.dataSync());
    const indices = tf.range(0, 6, 1, 'int32');
    const y = tf.gather(x, indices);
    expect(y.dataId).not.toBe(x.dataId);
    x.dispose();
    const zeros = tf.zeros([8, 8]);
    const z = tf.add(zeros, 1); // reuses freed heap memory
    expect(Array.from(y.dataSync())).toEqual(expected);
    tf.dispose([y, z, zeros, indices]);
  });

  it("strings and non-int32 indices go to tfjs-backend-wasm's kernel", async () => {
    await tf.setBackend('wasm');
    const backend = tf.backend();
    const outcome = (f: tf.KernelFunc, inputs: tf.NamedTensorInfoMap) => {
      try {
        const out = f({ inputs, attrs: { axis: 0, batchDims: 0 }, backend }) as tf.TensorInfo;
        const r = { shape: out.shape, data: Array.from(backend.readSync(out.dataId) as ArrayLike<unknown>) };
        backend.disposeData(out.dataId);
        return r;
      } catch (e) {
        return { error: (e as Error).message };
      }
    };
    // Float indices whose bits are small ints (0.0 is 0): tfjs-backend-wasm's kernel reads them as int32.
    const floatIds = { x: tf.tensor1d([1, 2, 3]), indices: tf.tensor1d([0, 0]) };
    expect(outcome(gatherV2, floatIds)).toEqual(outcome(originalKernel(tf.GatherV2), floatIds));
    const floatBad = { x: tf.tensor1d([1, 2, 3]), indices: tf.tensor1d([2.5]) };
    expect(outcome(gatherV2, floatBad)).toEqual({ error: 'GatherV2: the index value 2.5 is not in [0, 2]' });
    const strings = { x: tf.tensor1d(['a', 'b', 'c']), indices: tf.tensor1d([3], 'int32') };
    expect(outcome(gatherV2, strings)).toEqual(outcome(originalKernel(tf.GatherV2), strings));
    tf.dispose([...Object.values(floatIds), ...Object.values(floatBad), ...Object.values(strings)]);
  });

  it('leaves no tensor or buffer behind over many batches', async () => {
    await tf.setBackend('wasm');
    const data = tf.tensor2d(values(256 * 16, 9), [256, 16]);
    const order = tf.tensor1d(
      seq(256, (i) => (i * 37) % 256),
      'int32',
    );
    const tensors = tf.memory().numTensors;
    const ids = tf.engine().backend.numDataIds();
    const bytes = tf.memory().numBytes;
    for (let i = 0; i < 40; i++) tf.tidy(() => tf.sum(tf.gather(data, tf.slice(order, (i * 64) % 256, 64))).dataSync());
    expect(tf.memory().numTensors).toBe(tensors);
    expect(tf.engine().backend.numDataIds()).toBe(ids);
    expect(tf.memory().numBytes).toBe(bytes);
    tf.dispose([data, order]);
  });

  it.each([
    ['rows (axis 0), repeated', [5, 3, 4], [4, 0, 4, 2, 4], 0, 0],
    ['axis 1', [3, 6, 4], [5, 0, 5, 1], 1, 0],
    ['last axis', [3, 4, 5], [4, 4, 0], -1, 0],
    // (tfjs's gradient for batchDims 1 calls the chained `x.split`, which tfjs-core alone does not register.)
  ] as [string, number[], number[], number, number][])(
    'its gradient matches cpu (%s: UnsortedSegmentSum)',
    async (_n, shape, ids, axis, batchDims) => {
      const idShape = batchDims ? [shape[0], ids.length / shape[0]] : [ids.length];
      const { cpu, wasm } = await gradientOnBoth(
        shape,
        (v, [indices]) => {
          const y = tf.gather(v, indices, axis, batchDims);
          return tf.sum(tf.mul(y, tf.reshape(tf.range(1, y.size + 1), y.shape)));
        },
        () => [tf.tensor(ids, idShape, 'int32')],
      );
      expect(wasm.data).toEqual(cpu.data);
      expect(wasm.leaked).toBe(0);
    },
  );
});
