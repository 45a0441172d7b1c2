// The kernels @tfjs-lora/backend-wasm replaces, timed through tfjs's public ops (which run whichever
// kernel is registered for 'wasm': tfjs's own, or the package's), on the shapes of the MLP LoRA step:
// Transpose, Slice and GatherV2 of data batches, and the transposed products of the backward pass. Frozen
// weights are the same tensor every call (the package keeps Wᵀ of those); the rest are new every call.
import * as tf from '@tensorflow/tfjs-core';
import { median, seededFloats } from '../stats.js';

const t = (shape: number[], seed: number) => tf.tensor(seededFloats(tf.util.sizeFromShape(shape), seed), shape);

/** Median ms of `run(fresh)` over `reps` calls (the first 5 dropped), new inputs from `make()` each call. */
function timeCase(reps: number, make: () => tf.Tensor[], run: (fresh: tf.Tensor[]) => tf.Tensor): number {
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const fresh = make();
    const t0 = performance.now();
    const out = run(fresh);
    times.push(performance.now() - t0);
    tf.dispose([out, ...fresh]);
  }
  return median(times.slice(5));
}

const PRODUCTS: { name: string; a: number[]; b: number[]; ta: boolean; tb: boolean; frozen: boolean }[] = [
  {
    name: 'dx = dy·W1ᵀ (64×512 · (784×512)ᵀ, W frozen)',
    a: [64, 512],
    b: [784, 512],
    ta: false,
    tb: true,
    frozen: true,
  },
  {
    name: 'dx = dy·W2ᵀ (64×512 · (512×512)ᵀ, W frozen)',
    a: [64, 512],
    b: [512, 512],
    ta: false,
    tb: true,
    frozen: true,
  },
  { name: 'dx = dy·W3ᵀ (64×10 · (512×10)ᵀ, W frozen)', a: [64, 10], b: [512, 10], ta: false, tb: true, frozen: true },
  { name: 'dA = xᵀ·g (64×784)ᵀ · 64×8', a: [64, 784], b: [64, 8], ta: true, tb: false, frozen: false },
  { name: 'dB = (xA)ᵀ·dy (64×8)ᵀ · 64×512', a: [64, 8], b: [64, 512], ta: true, tb: false, frozen: false },
  { name: 'd(xA) = dy·Bᵀ 64×512 · (8×512)ᵀ', a: [64, 512], b: [8, 512], ta: false, tb: true, frozen: false },
  { name: 'dW = xᵀ·dy (64×784)ᵀ · 64×512 (full FT)', a: [64, 784], b: [64, 512], ta: true, tb: false, frozen: false },
];

/** Median ms per kernel case, by case name, on the active backend. */
export function timeKernelCases(): Record<string, number> {
  const out: Record<string, number> = {};
  const square = t([512, 512], 1);
  out['Transpose 512×512'] = timeCase(
    60,
    () => [],
    () => tf.transpose(square, [1, 0]),
  );
  square.dispose();
  for (const n of [4096, 60000]) {
    const x = t([n, 784], 6);
    let i = 0;
    out[`Slice 64 rows of [${n}, 784]`] = timeCase(
      n > 10000 ? 20 : 60,
      () => [],
      () => tf.slice(x, [(i++ * 64) % (n - 63), 0], [64, -1]),
    );
    x.dispose();
  }
  for (const g of [
    { name: 'GatherV2 64 rows of [4096, 784]', x: [4096, 784], ids: [64] },
    { name: 'GatherV2 embedding [65, 64], ids 64×32', x: [65, 64], ids: [64, 32] },
  ]) {
    const x = t(g.x, 7);
    let k = 0;
    const ids = () =>
      tf.tensor(
        Array.from({ length: tf.util.sizeFromShape(g.ids) }, () => (k = (k * 1103515245 + 12345) % 2 ** 31) % g.x[0]!),
        g.ids,
        'int32',
      );
    out[g.name] = timeCase(
      60,
      () => [ids()],
      ([indices]) => tf.gather(x, indices!, 0),
    );
    x.dispose();
  }
  for (const p of PRODUCTS) {
    const frozen = t(p.b, 3);
    const make = () => (p.frozen ? [t(p.a, 4)] : [t(p.a, 4), t(p.b, 5)]);
    out[p.name] = timeCase(80, make, ([a, b]) => tf.matMul(a!, p.frozen ? frozen : b!, p.ta, p.tb));
    frozen.dispose();
  }
  return out;
}
