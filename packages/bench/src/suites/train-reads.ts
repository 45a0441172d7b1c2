// LoRA training step time on WebGPU with the old per-step loss read against core's `train`, which keeps
// each loss on the device and reads them asynchronously in groups (issue 14), side by side in one run:
// WebGPU in Node (Dawn; Mesa llvmpipe on a machine without a GPU), then in headless Chromium.
//   pnpm bench train-reads [--steps 24 --rounds 5 --batch 32 --hidden 128 --inputs 64] [--no-chromium] [--no-node]
//   pnpm bench train-reads --backend cuda|native|wasm|cpu   the same variants in Node on that backend only
// On a lent NVIDIA GPU: packages/bench/scripts/webgpu-device.sh runs it after the kernel benchmark, and
// packages/bench/scripts/cuda-device.sh runs it with --backend webgpu and --backend cuda side by side.
import '@tensorflow/tfjs-backend-cpu';
import { useBackend } from '@tfjs-lora/core';
import {
  describeAdapter,
  disposeWebgpuBackend,
  registerWebgpuBackend,
  webgpuAdapterReport,
} from '@tfjs-lora/backend-webgpu';
import { markdownTable } from '../print-table.js';
import {
  measureTrainReads,
  DEFAULT_TRAIN_READS,
  type TrainReadsOptions,
  type VariantResult,
} from './train-reads/measure.js';

function arg(name: string): number | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? Number(process.argv[i + 1]) : undefined;
}
const options: Partial<TrainReadsOptions> = {};
for (const k of ['steps', 'rounds', 'batch', 'hidden', 'inputs'] as const) {
  const v = arg(k);
  if (v !== undefined) options[k] = v;
}
const o = { ...DEFAULT_TRAIN_READS, ...options };
const backendArg = process.argv.indexOf('--backend');
const only = backendArg >= 0 ? process.argv[backendArg + 1] : undefined;
const BACKENDS = ['webgpu', 'cuda', 'native', 'wasm', 'cpu'];
if (only !== undefined && !BACKENDS.includes(only)) {
  console.error(`train-reads: --backend expects one of ${BACKENDS.join(', ')}; found '${only}'`);
  process.exit(2);
}

function table(where: string, results: VariantResult[]): string {
  const reference = results[0]!; // the per-step await
  return [
    `\n${where}: MLP ${o.inputs}-${o.hidden}-${o.hidden}-10, LoRA r=8 on every layer, batch ${o.batch}, Adam; ` +
      `${o.rounds} interleaved rounds × ${o.steps} steps per variant (after one warm-up round); medians`,
    markdownTable(
      ['variant', 'ms / step', 'per-step await / this', 'rounds (ms / step)', 'last loss'],
      results.map((r) => [
        r.name,
        r.msPerStep.toFixed(2),
        `${(reference.msPerStep / r.msPerStep).toFixed(2)}×`,
        r.rounds.map((t) => t.toFixed(1)).join(' '),
        r.lastLoss.toFixed(3),
      ]),
      ['l', 'r', 'r', 'l', 'r'],
    ),
  ].join('\n');
}

if (only !== undefined && only !== 'webgpu') {
  // A host or native backend in Node: the same variants (there a per-step await is what a dataSync would cost).
  if (only === 'cuda' || only === 'native') {
    const cuda = await import('@tfjs-lora/backend-cuda');
    const status = await cuda.nativeBindingStatus();
    if (!status.ok) {
      console.log(`${only}: unavailable here: ${status.reason}`);
      process.exit(only === 'cuda' ? 1 : 0);
    }
    cuda.registerNativeBackends();
  } else if (only === 'wasm') {
    (await import('@tfjs-lora/backend-wasm')).registerWasmBackend();
  }
  const backend = await useBackend(only);
  if (backend.name !== only) {
    console.log(`${only}: unavailable here (useBackend gave '${backend.name}')`);
    process.exit(1);
  }
  console.log(table(`${only} in Node`, await measureTrainReads(options)));
  process.exit(0);
}

if (!process.argv.includes('--no-node')) {
  registerWebgpuBackend({ cpuHandoffThreshold: 0 });
  const backend = await useBackend('webgpu');
  if (backend.name !== 'webgpu') {
    console.log(`WebGPU in Node: unavailable here (useBackend gave '${backend.name}')`);
  } else {
    const report = await webgpuAdapterReport();
    const results = await measureTrainReads(options);
    console.log(table(`WebGPU in Node (${report ? describeAdapter(report) : 'unknown adapter'})`, results));
    console.log(
      '(a dataSync per step, the old loop, cannot run here: tfjs-backend-webgpu in Node has no synchronous read)',
    );
  }
  await disposeWebgpuBackend();
}

if (!process.argv.includes('--no-chromium') && only === undefined) {
  const { runInChromium } = await import('./train-reads/chromium.js');
  const run = await runInChromium(options);
  if ('unavailable' in run) console.log(`\nWebGPU in Chromium: skipped: ${run.unavailable}`);
  else console.log(table(`WebGPU in headless Chromium ${run.browserVersion} (${run.adapter})`, run.results));
}
