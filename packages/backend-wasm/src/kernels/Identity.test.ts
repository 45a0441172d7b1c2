// The no-copy Identity on wasm: shared buffer, reference counts, and tf.memory() accounting identical to
// the cpu backend (which shares too) in every disposal order, in tidy and under gradients.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers'; // registers the gradients
import { beforeAll, describe, expect, it } from 'vitest';
import { maxDiff, setUpBackends, values } from '../../test-support/kernel-check.js';
import { identity } from './Identity.js';
import { transposeCacheStats } from './transpose-cache.js';

interface Trace {
  /** tf.memory() numTensors / numBytes / numDataBuffers after each step, relative to the start. */
  memory: [number, number, number][];
  /** Backend data ids relative to the start, after each step (not counting BatchMatMul's cached transposes). */
  ids: number[];
  /** Values read after each step (of whichever tensor is still alive). */
  reads: number[][];
}

/** Runs `steps` on `backend`, recording memory after each; each step may return a tensor to read. */
async function trace(backend: string, steps: ((s: Record<string, tf.Tensor>) => tf.Tensor | void)[]): Promise<Trace> {
  await tf.setBackend(backend);
  const m0 = tf.memory();
  const ids0 = tf.engine().backend.numDataIds();
  const state: Record<string, tf.Tensor> = {};
  const t: Trace = { memory: [], ids: [], reads: [] };
  for (const step of steps) {
    const r = step(state);
    const m = tf.memory();
    t.memory.push([m.numTensors - m0.numTensors, m.numBytes - m0.numBytes, m.numDataBuffers - m0.numDataBuffers]);
    t.ids.push(tf.engine().backend.numDataIds() - ids0 - (backend === 'wasm' ? transposeCacheStats().entries : 0));
    t.reads.push(r ? Array.from(r.dataSync()) : []);
  }
  return t;
}

/** The same steps on cpu and wasm: identical memory accounting and values, and every buffer freed. */
async function sameAsCpu(steps: ((s: Record<string, tf.Tensor>) => tf.Tensor | void)[]): Promise<Trace> {
  const cpu = await trace('cpu', steps);
  const wasm = await trace('wasm', steps);
  expect(wasm.memory).toEqual(cpu.memory);
  expect(wasm.reads.map((r) => r.length)).toEqual(cpu.reads.map((r) => r.length));
  wasm.reads.forEach((r, i) => expect(maxDiff(r, cpu.reads[i])).toBeLessThan(1e-5));
  expect(wasm.ids).toEqual(cpu.ids);
  return wasm;
}

const make = (s: Record<string, tf.Tensor>) => (s.x = tf.tensor(values(6, 1), [2, 3]));

describe('Identity (wasm, shared buffer)', () => {
  beforeAll(setUpBackends);

  it('replaces the wasm kernel and does not copy', async () => {
    expect(tf.getKernel('Identity', 'wasm')?.kernelFunc).toBe(identity);
    await tf.setBackend('wasm');
    const x = tf.tensor([1, 2, 3]);
    const y = tf.clone(x);
    expect(y.dataId).toBe(x.dataId);
    expect(tf.engine().backend.refCount(x.dataId)).toBe(2);
    tf.dispose([x, y]);
  });

  it('clone, then dispose the input first', async () => {
    const t = await sameAsCpu([make, (s) => (s.y = tf.clone(s.x)), (s) => (s.x.dispose(), s.y), (s) => s.y.dispose()]);
    expect(t.ids).toEqual([1, 1, 1, 0]); // one buffer while either lives
  });

  it('clone, then dispose the clone first', async () => {
    const t = await sameAsCpu([make, (s) => (s.y = tf.clone(s.x)), (s) => (s.y.dispose(), s.x), (s) => s.x.dispose()]);
    expect(t.ids).toEqual([1, 1, 1, 0]);
  });

  it('inside tidy: the kept clone outlives the input; the dropped one frees nothing of the input', async () => {
    await sameAsCpu([
      make,
      (s) => (s.y = tf.tidy(() => tf.clone(tf.clone(s.x)))),
      (s) => (tf.tidy(() => void tf.clone(s.x)), s.x),
      (s) => (s.x.dispose(), s.y),
      (s) => s.y.dispose(),
    ]);
  });

  it('under gradients (tensors saved for backprop are clones), repeated, with a variable', async () => {
    const step = (s: Record<string, tf.Tensor>) =>
      tf.tidy(() => {
        const w = s.w as tf.Variable;
        const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(tf.matMul(s.x, w))) as tf.Scalar, [w]);
        w.assign(tf.sub(w, tf.mul(0.01, grads[w.name])));
        return tf.keep(value);
      });
    const reads: ((s: Record<string, tf.Tensor>) => tf.Tensor | void)[] = [];
    const losses: tf.Tensor[] = [];
    for (let i = 0; i < 4; i++) reads.push((s) => (losses.push(step(s)), losses.at(-1)));
    const t = await sameAsCpu([
      make,
      (s) => {
        const init = tf.tensor(values(12, 2), [3, 4]);
        s.w = tf.variable(init, true, `identity-test-w-${tf.getBackend()}`);
        init.dispose();
      },
      ...reads,
      (s) => (s.vals = tf.stack([s.w, s.w])),
      (s) => tf.dispose([s.x, s.w, s.vals]),
    ]);
    expect(t.memory.at(-1)).toEqual([4, 16, 4]); // the four losses returned above, still alive
    tf.dispose(losses); // on both backends
  });

  it('a string tensor is shared too', async () => {
    await tf.setBackend('wasm');
    const x = tf.tensor(['a', 'bc']);
    const y = tf.clone(x);
    x.dispose();
    expect(y.dataSync()).toEqual(['a', 'bc']);
    y.dispose();
  });
});
