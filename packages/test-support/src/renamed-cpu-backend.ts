// tfjs's own cpu backend and kernels registered under another name. @tfjs-lora/core treats only the backends it
// knows to keep tensors in host memory (cpu, wasm, tensorflow) as able to read synchronously, so under this name
// the library's asynchronous paths run and its synchronous forms refuse, while every number is the cpu
// backend's: tests compare them with the synchronous results on 'cpu' (webgpu itself runs in the conformance
// suite).
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll } from 'vitest';

/**
 * For the enclosing describe block (or file): in beforeAll, selects 'cpu' and registers backend `name`, a
 * `MathBackendCPU` with every cpu kernel; in afterAll, selects 'cpu' again and removes `name` and its kernels.
 * Tests switch to it themselves (`await tf.setBackend(name)`).
 */
export function useRenamedCpuBackend(name: string): void {
  beforeAll(async () => {
    await tf.setBackend('cpu');
    tf.registerBackend(name, () => new MathBackendCPU());
    for (const k of tf.getKernelsForBackend('cpu')) tf.registerKernel({ ...k, backendName: name });
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
    for (const k of tf.getKernelsForBackend(name)) tf.unregisterKernel(k.kernelName, name);
    tf.removeBackend(name);
  });
}
