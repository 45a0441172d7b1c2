#!/usr/bin/env node
// GPU check for a real NVIDIA machine: is @tensorflow/tfjs-node-gpu's TensorFlow on the GPU, and does a
// LoRA matmul run there? Run after `pnpm --filter @tfjs-lora/backend-cuda build` (or from an install):
//
//   node packages/backend-cuda/scripts/check-gpu.mjs
//
// Prints nvidia-smi's GPU list, the 'cuda' backend's availability (or the exact reason it is not), the
// device TensorFlow placed a matmul on, and 1024² matMul timings on 'cuda' vs the cpu backend.
// Exit code: 0 when 'cuda' is available and on a GPU, 1 otherwise.
import { execFileSync } from 'node:child_process';

try {
  console.log(
    execFileSync('nvidia-smi', ['--query-gpu=name,driver_version,memory.total', '--format=csv,noheader'], {
      encoding: 'utf8',
    }).trim(),
  );
} catch (e) {
  console.log(`nvidia-smi: ${e.message.split('\n')[0]} (no NVIDIA driver visible)`);
}
process.env.TF_CPP_MIN_LOG_LEVEL ??= '0'; // show TensorFlow's "Created device /GPU:0" lines
const tf = await import('@tensorflow/tfjs-core');
await import('@tensorflow/tfjs-backend-cpu');
const { useBackend } = await import('@tfjs-lora/core');
const { cudaBindingStatus } = await import('../dist/index.js');

const status = await cudaBindingStatus({ allowCpuDevice: false });
if (!status.ok) {
  console.log(`cuda: unavailable (${status.kind}): ${status.reason}`);
  process.exit(1);
}
console.log(
  `cuda: available: ${status.packageName} from ${status.packageDir}, TensorFlow ${status.tensorflowVersion}, GPU device: ${status.gpu}`,
);
const time = async (backend) => {
  await tf.setBackend(backend);
  const a = tf.randomNormal([1024, 1024]);
  tf.matMul(a, a).dataSync(); // warm-up
  const t = performance.now();
  for (let i = 0; i < 10; i++) tf.tidy(() => tf.matMul(a, a).dataSync());
  a.dispose();
  return (performance.now() - t) / 10;
};
await useBackend('cuda');
const gpu = await time('tensorflow');
const cpu = await time('cpu');
console.log(`1024x1024 matMul: cuda ${gpu.toFixed(2)} ms, tfjs cpu ${cpu.toFixed(1)} ms (${(cpu / gpu).toFixed(0)}x)`);
process.exit(status.gpu ? 0 : 1);
