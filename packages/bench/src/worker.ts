// One benchmark worker: tfjs-lora on one backend, in its own process (a wasm thread count is fixed
// when the backend starts). Builds every model once, then runs the conductor's step requests.
//
//   tsx src/worker.ts <wasm-1t|wasm-2t|cpu|native> <workload,...>
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { useBackend } from '@tfjs-lora/core';
import '@tfjs-lora/vision';
import { createInterface } from 'node:readline';
import type { EngineName, FailedMessage, ReadyMessage, StepReply, StepRequest } from './protocol.js';
import { buildTrainer, type Trainer, type Variant, type WorkloadName } from './workloads.js';

const send = (message: ReadyMessage | FailedMessage | StepReply) =>
  process.stdout.write(`${JSON.stringify(message)}\n`);

/** Starts the tfjs backend of `engine`; returns a label for the table. */
async function startBackend(engine: EngineName): Promise<string> {
  if (engine === 'cpu') {
    await useBackend('cpu');
    return 'tfjs-lora cpu';
  }
  if (engine === 'native') {
    const cuda = await import('@tfjs-lora/backend-cuda');
    const status = await cuda.nativeBindingStatus();
    if (!status.ok) throw new Error(status.reason);
    cuda.registerNativeBackends();
    await useBackend('native');
    const binding = await cuda.loadNativeBinding();
    return `tfjs-lora native (TensorFlow ${binding.ok ? binding.tensorflowVersion : '?'} C library, CPU)`;
  }
  const threads = engine === 'wasm-2t' ? 2 : 1;
  const wasm = await import('@tfjs-lora/backend-wasm');
  wasm.registerWasmBackend({ threads });
  await useBackend('wasm');
  const simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) ? 'SIMD' : 'no SIMD';
  const actual = await wasm.wasmThreadsCount();
  if (actual !== threads) throw new Error(`asked wasm for ${threads} threads, it runs ${actual}`);
  return `tfjs-lora wasm, ${simd}, ${actual} thread${actual === 1 ? '' : 's'}`;
}

async function main(): Promise<void> {
  const engine = process.argv[2] as EngineName;
  const workloads = (process.argv[3] ?? 'mlp,cnn').split(',') as WorkloadName[];
  let label: string;
  try {
    label = await startBackend(engine);
  } catch (e) {
    send({ ready: false, error: (e as Error).message.split('\n')[0] });
    return;
  }
  const trainers = new Map<string, Trainer>();
  for (const w of workloads)
    for (const v of ['lora', 'full'] as Variant[]) trainers.set(`${w}/${v}`, buildTrainer(w, v));
  send({ ready: true, label, trainable: Object.fromEntries([...trainers].map(([k, t]) => [k, t.trainable])) });
  for await (const line of createInterface({ input: process.stdin })) {
    if (!line.trim()) continue;
    const request = JSON.parse(line) as StepRequest;
    const trainer = trainers.get(`${request.workload}/${request.variant}`)!;
    const times: number[] = [];
    const losses: number[] = [];
    for (let i = 0; i < request.steps; i++) {
      const t = performance.now();
      losses.push(await trainer.step());
      times.push(performance.now() - t);
    }
    send({ times, firstLoss: losses[0], loss: losses[losses.length - 1] });
  }
  for (const t of trainers.values()) t.dispose();
  tf.engine().reset(); // a threaded wasm backend keeps Node alive until it is removed
}

await main();
