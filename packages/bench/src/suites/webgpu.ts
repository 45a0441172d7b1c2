// Fused vs composed LoRA kernels on the WebGPU adapter this machine has, measured side by side in one
// run (interleaved rounds, medians), printed as one table of ratios with the adapter's name.
//   pnpm bench webgpu [--m 512 --k 1024 --n 1024 --ranks 4,16,64 --adapters 8 --rounds 5 --reps 3]
// On a lent NVIDIA GPU: packages/bench/scripts/webgpu-device.sh (see packages/bench/README.md).
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers'; // gradients of the composed ops
import { useBackend, type LoraMatMulArgs } from '@tfjs-lora/core';
import { composedLoraMatMul, composedMultiAdapterMatMul } from '@tfjs-lora/core/math';
import {
  describeAdapter,
  disposeWebgpuBackend,
  registerWebgpuBackend,
  webgpuAdapterReport,
  webgpuLoraMatMul,
  webgpuMultiAdapterMatMul,
} from '@tfjs-lora/backend-webgpu';
import { markdownTable } from '../print-table.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}
const M = Number(arg('m', '512'));
const K = Number(arg('k', '1024'));
const N = Number(arg('n', '1024'));
const RANKS = arg('ranks', '4,16,64').split(',').map(Number);
const ADAPTERS = Number(arg('adapters', '8'));
const ROUNDS = Number(arg('rounds', '5'));
const REPS = Number(arg('reps', '3'));

/** Runs `fn` REPS times, waits for the GPU once, and returns ms per call. */
async function timeOnce(fn: () => tf.Tensor | tf.Tensor[]): Promise<number> {
  const t0 = performance.now();
  let last: tf.Tensor[] = [];
  for (let i = 0; i < REPS; i++) {
    tf.dispose(last);
    const out = fn();
    last = Array.isArray(out) ? out : [out];
  }
  await Promise.all(last.map((t) => tf.slice(tf.reshape(t, [-1]), 0, 1).data())); // one tiny read: the queue is drained
  const ms = (performance.now() - t0) / REPS;
  tf.dispose(last);
  return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Medians of interleaved rounds of each variant (after one warm-up call each, which compiles shaders). */
async function compare(variants: Record<string, () => tf.Tensor | tf.Tensor[]>): Promise<Record<string, number>> {
  const times: Record<string, number[]> = {};
  for (const [name, fn] of Object.entries(variants)) {
    await timeOnce(fn);
    times[name] = [];
  }
  for (let r = 0; r < ROUNDS; r++)
    for (const [name, fn] of Object.entries(variants)) times[name].push(await timeOnce(fn));
  return Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
}

function rand(shape: number[], scale = 0.05): tf.Tensor {
  return tf.randomUniform(shape, -scale, scale, 'float32', 42);
}

function fwdBwd(impl: (a: LoraMatMulArgs) => tf.Tensor2D, args: LoraMatMulArgs, dy: tf.Tensor): () => tf.Tensor[] {
  const f = (x: tf.Tensor, a: tf.Tensor, b: tf.Tensor, bias: tf.Tensor) =>
    impl({ ...args, x: x as tf.Tensor2D, loraA: a as tf.Tensor2D, loraB: b as tf.Tensor2D, bias: bias as tf.Tensor1D });
  return () => tf.grads(f as (...t: tf.Tensor[]) => tf.Tensor)([args.x, args.loraA, args.loraB, args.bias!], dy);
}

/** The obvious per-row alternative: one masked LoRA product per adapter, summed. */
function loopOverAdapters(
  x: tf.Tensor2D,
  a: tf.Tensor3D,
  b: tf.Tensor3D,
  scalings: number[],
  index: tf.Tensor1D,
): tf.Tensor2D {
  return tf.tidy(() => {
    let out: tf.Tensor = tf.zeros([x.shape[0], b.shape[2]]);
    for (let i = 0; i < scalings.length; i++) {
      const mask = tf.expandDims(tf.cast(tf.equal(index, i), 'float32'), 1);
      const ai = tf.squeeze(tf.slice(a, [i, 0, 0], [1, -1, -1]), [0]) as tf.Tensor2D;
      const bi = tf.squeeze(tf.slice(b, [i, 0, 0], [1, -1, -1]), [0]) as tf.Tensor2D;
      out = tf.add(out, tf.mul(tf.matMul(tf.matMul(x, ai), bi), tf.mul(mask, scalings[i])));
    }
    return out as tf.Tensor2D;
  });
}

async function main(): Promise<void> {
  registerWebgpuBackend({ cpuHandoffThreshold: 0 });
  await useBackend('webgpu');
  const report = (await webgpuAdapterReport())!;
  console.log(`adapter: ${describeAdapter(report)}`);
  console.log(
    `shapes: M=${M} K=${K} N=${N}; medians of ${ROUNDS} interleaved rounds x ${REPS} calls; ratio = composed / fused\n`,
  );
  const rows: string[][] = [];
  const x = rand([M, K], 1) as tf.Tensor2D;
  const kernel = rand([K, N]) as tf.Tensor2D;
  const bias = rand([N]) as tf.Tensor1D;
  const dy = rand([M, N], 1);
  for (const r of RANKS) {
    const args: LoraMatMulArgs = {
      x,
      kernel,
      loraA: rand([K, r]) as tf.Tensor2D,
      loraB: rand([r, N]) as tf.Tensor2D,
      scaling: 2,
      bias,
    };
    const fwd = await compare({ composed: () => composedLoraMatMul(args), fused: () => webgpuLoraMatMul(args) });
    const both = await compare({
      composed: fwdBwd(composedLoraMatMul, args, dy),
      fused: fwdBwd(webgpuLoraMatMul, args, dy),
    });
    rows.push([
      `LoRA forward, r=${r}`,
      fwd.composed.toFixed(2),
      fwd.fused.toFixed(2),
      (fwd.composed / fwd.fused).toFixed(2),
    ]);
    rows.push([
      `LoRA forward+backward, r=${r}`,
      both.composed.toFixed(2),
      both.fused.toFixed(2),
      (both.composed / both.fused).toFixed(2),
    ]);
    tf.dispose([args.loraA, args.loraB]);
  }
  const r = 16;
  const a = rand([ADAPTERS, K, r]) as tf.Tensor3D;
  const b = rand([ADAPTERS, r, N]) as tf.Tensor3D;
  const scalingList = Array.from({ length: ADAPTERS }, (_, i) => 1 + i / 4);
  const scalings = tf.tensor1d(scalingList);
  const index = tf.tensor1d(
    Int32Array.from({ length: M }, (_, i) => (i % (ADAPTERS + 1)) - 1),
    'int32',
  );
  const multi = { x, loraA: a, loraB: b, scalings, adapterIndex: index };
  const per = await compare({
    loop: () => loopOverAdapters(x, a, b, scalingList, index),
    gather: () => composedMultiAdapterMatMul(multi),
    fused: () => webgpuMultiAdapterMatMul(multi),
  });
  rows.push([
    `per-row ${ADAPTERS} adapters r=${r}: loop`,
    per.loop.toFixed(2),
    per.fused.toFixed(2),
    (per.loop / per.fused).toFixed(2),
  ]);
  rows.push([
    `per-row ${ADAPTERS} adapters r=${r}: gather (core)`,
    per.gather.toFixed(2),
    per.fused.toFixed(2),
    (per.gather / per.fused).toFixed(2),
  ]);
  console.log(markdownTable(['workload', 'composed ms', 'fused ms', 'ratio'], rows));
  if (report.software)
    console.log(
      `\nnote: ${report.device || 'this adapter'} is a software rasteriser: these ratios are not representative of a GPU.`,
    );
  tf.dispose([x, kernel, bias, dy, a, b, scalings, index]);
  await disposeWebgpuBackend();
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
