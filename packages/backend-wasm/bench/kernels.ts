// Benchmark: tfjs-backend-wasm's own kernels ("stock") against this package's, side by side in one
// process (one thread), then the MLP LoRA training step (784-512-512-10, batch 64, r=8 on all three
// Dense layers, Adam) and untransposed matMuls in child processes: stock / ours 1 thread / ours 2
// threads, run interleaved in rounds (rotating order). Medians. The machine may be shared: repeat.
//
//   pnpm --filter @tfjs-lora/backend-wasm bench            (or: npx tsx bench/kernels.ts [rounds])
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '@tfjs-lora/core';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { registerWasmBackend } from '../src/index.js';
import { batchMatMul } from '../src/kernels/BatchMatMul.js';
import { gatherV2 } from '../src/kernels/GatherV2.js';
import { slice } from '../src/kernels/Slice.js';
import { transpose } from '../src/kernels/Transpose.js';
import { originalKernel } from '../src/kernels/originals.js';
import { values } from '../test-support/kernel-check.js';
import { median } from './timing.js';

const rounds = Number(process.argv[2] ?? 3);
registerWasmBackend({ threads: false });
await useBackend('wasm');
const backend = tf.backend();

type Run = () => tf.TensorInfo;
/** Times `make()` then `run(made)` (only `run` timed) for two variants, alternating blocks of 10. */
function compare(
  reps: number,
  variants: Record<'stock' | 'ours', (fresh: tf.Tensor[]) => Run>,
  make: () => tf.Tensor[],
): Record<'stock' | 'ours', number> {
  const times: Record<string, number[]> = { stock: [], ours: [] };
  for (let r = 0; r < reps; r += 10) {
    for (const name of (r / 10) % 2 ? (['ours', 'stock'] as const) : (['stock', 'ours'] as const)) {
      for (let i = 0; i < 10; i++) {
        const fresh = make();
        const run = variants[name](fresh);
        const t = performance.now();
        const out = run();
        times[name].push(performance.now() - t);
        backend.disposeData(out.dataId);
        tf.dispose(fresh);
      }
    }
  }
  return { stock: median(times.stock.slice(5)), ours: median(times.ours.slice(5)) };
}

const t = (shape: number[], seed: number) => tf.tensor(values(tf.util.sizeFromShape(shape), seed), shape);
const rows: [string, number, number][] = [];

// Transpose 512×512.
{
  const x = t([512, 512], 1);
  const call = (f: tf.KernelFunc) => () => () =>
    f({ inputs: { x }, attrs: { perm: [1, 0] }, backend }) as tf.TensorInfo;
  const r = compare(60, { stock: call(originalKernel(tf.Transpose)), ours: call(transpose) }, () => []);
  rows.push(['Transpose 512×512', r.stock, r.ours]);
  x.dispose();
}

// Slice: one batch of 64 rows cut out of the data (tfjs's kernel first copies all of x off the heap).
for (const n of [4096, 60000]) {
  const x = t([n, 784], 6);
  let i = 0;
  const call = (f: tf.KernelFunc) => () => () =>
    f({ inputs: { x }, attrs: { begin: [(i++ * 64) % (n - 63), 0], size: [64, -1] }, backend }) as tf.TensorInfo;
  const r = compare(n > 10000 ? 20 : 60, { stock: call(originalKernel(tf.Slice)), ours: call(slice) }, () => []);
  rows.push([`Slice 64 rows of [${n}, 784]`, r.stock, r.ours]);
  x.dispose();
}

// GatherV2: one batch of 64 rows of the data (tfjs-layers' `fit` cuts every batch of x and y with it),
// and an Embedding layer's forward (vocabulary 65, dimension 64, 64 sequences of 32 ids). New indices
// each call.
for (const g of [
  { name: 'GatherV2 64 rows of [4096, 784]', x: [4096, 784], ids: [64] },
  { name: 'GatherV2 embedding [65, 64], ids 64×32', x: [65, 64], ids: [64, 32] },
]) {
  const x = t(g.x, 7);
  let k = 0;
  const make = () => [
    tf.tensor(
      Array.from({ length: tf.util.sizeFromShape(g.ids) }, () => (k = (k * 1103515245 + 12345) % 2 ** 31) % g.x[0]),
      g.ids,
      'int32',
    ),
  ];
  const call = (f: tf.KernelFunc) => (fresh: tf.Tensor[]) => () =>
    f({ inputs: { x, indices: fresh[0] }, attrs: { axis: 0, batchDims: 0 }, backend }) as tf.TensorInfo;
  const r = compare(60, { stock: call(originalKernel(tf.GatherV2)), ours: call(gatherV2) }, make);
  rows.push([g.name, r.stock, r.ours]);
  x.dispose();
}

// The transposed products of the MLP LoRA step's backward pass. Frozen weights are the same tensor
// every step (ours keeps Wᵀ); activations and trainable factors are new tensors every step.
const products: { name: string; a: number[]; b: number[]; ta: boolean; tb: boolean; frozen: 'a' | 'b' | null }[] = [
  {
    name: 'dx = dy·W1ᵀ (64×512 · (784×512)ᵀ, W frozen)',
    a: [64, 512],
    b: [784, 512],
    ta: false,
    tb: true,
    frozen: 'b',
  },
  {
    name: 'dx = dy·W2ᵀ (64×512 · (512×512)ᵀ, W frozen)',
    a: [64, 512],
    b: [512, 512],
    ta: false,
    tb: true,
    frozen: 'b',
  },
  { name: 'dx = dy·W3ᵀ (64×10 · (512×10)ᵀ, W frozen)', a: [64, 10], b: [512, 10], ta: false, tb: true, frozen: 'b' },
  { name: 'dA = xᵀ·g (64×784)ᵀ · 64×8', a: [64, 784], b: [64, 8], ta: true, tb: false, frozen: null },
  { name: 'dB = (xA)ᵀ·dy (64×8)ᵀ · 64×512', a: [64, 8], b: [64, 512], ta: true, tb: false, frozen: null },
  { name: 'd(xA) = dy·Bᵀ 64×512 · (8×512)ᵀ', a: [64, 512], b: [8, 512], ta: false, tb: true, frozen: null },
  {
    name: 'dW = xᵀ·dy (64×784)ᵀ · 64×512 (full fine-tuning)',
    a: [64, 784],
    b: [64, 512],
    ta: true,
    tb: false,
    frozen: null,
  },
];
for (const p of products) {
  const fixed = { a: t(p.a, 2), b: t(p.b, 3) };
  const make = () =>
    [p.frozen === 'a' ? null : t(p.a, 4), p.frozen === 'b' ? null : t(p.b, 5)].filter(
      (x): x is tf.Tensor => x !== null,
    );
  const call = (f: tf.KernelFunc) => (fresh: tf.Tensor[]) => {
    const a = p.frozen === 'a' ? fixed.a : fresh[0];
    const b = p.frozen === 'b' ? fixed.b : fresh[p.frozen === 'a' ? 0 : 1];
    return () => f({ inputs: { a, b }, attrs: { transposeA: p.ta, transposeB: p.tb }, backend }) as tf.TensorInfo;
  };
  const r = compare(80, { stock: call(originalKernel(tf.BatchMatMul)), ours: call(batchMatMul) }, make);
  rows.push([p.name, r.stock, r.ours]);
  tf.dispose([fixed.a, fixed.b]);
}

console.log('\nKernels, one thread, same process (median ms; ratio = stock / ours)\n');
console.log('| kernel | stock ms | ours ms | speed-up |\n|---|---|---|---|');
for (const [name, s, o] of rows)
  console.log(`| ${name} | ${s.toFixed(3)} | ${o.toFixed(3)} | ${(s / o).toFixed(1)}x |`);

// Whole step and threads: child processes, interleaved.
const configs = ['stock', 'ours-1', 'ours-2'];
const results: Record<string, Record<string, number>[]> = Object.fromEntries(configs.map((c) => [c, []]));
const child = fileURLToPath(new URL('./step-child.ts', import.meta.url));
for (let r = 0; r < rounds; r++) {
  for (const c of configs.map((_, k) => configs[(k + r) % configs.length])) {
    const p = spawnSync(process.execPath, ['--import', 'tsx', child, c], { encoding: 'utf8', timeout: 300_000 });
    const line = p.stdout.split('\n').find((l) => l.startsWith('{'));
    if (!line) throw new Error(`bench child ${c} failed: ${p.stderr}`);
    results[c].push(JSON.parse(line));
  }
}
const metrics = ['stepMs', 'mm1024', 'mm64x784x512', 'mm64x512x512'];
console.log(
  `\nMLP LoRA step and untransposed matMuls: ${rounds} rounds of child processes, interleaved (median of per-process medians, ms)\n`,
);
console.log(`| metric | ${configs.join(' | ')} | stock / ours-1 | ours-1 / ours-2 |\n|---|---|---|---|---|---|`);
for (const m of metrics) {
  const v = configs.map((c) => median(results[c].map((x) => x[m])));
  console.log(
    `| ${m} | ${v.map((x) => x.toFixed(2)).join(' | ')} | ${(v[0] / v[1]).toFixed(2)}x | ${(v[1] / v[2]).toFixed(2)}x |`,
  );
}
console.log(
  `\nthreads: ${configs.map((c) => `${c}=${results[c][0].threads}`).join(', ')}; final losses ${configs.map((c) => results[c][0].lastLoss.toFixed(4)).join(' / ')}`,
);
