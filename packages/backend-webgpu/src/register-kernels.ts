import { getKernel, registerKernel, type KernelConfig } from '@tensorflow/tfjs-core';
import { bgmvExpandConfig } from './kernels/bgmv-expand.js';
import { bgmvShrinkConfig } from './kernels/bgmv-shrink.js';
import { loraMatMulConfig } from './kernels/lora-matmul.js';

/** Every fused LoRA kernel this package registers for tfjs's 'webgpu' backend. */
export const webgpuKernelConfigs: readonly KernelConfig[] = [loraMatMulConfig, bgmvShrinkConfig, bgmvExpandConfig];

/** Registers the fused kernels with tfjs (`registerKernel`); kernels already registered are left alone. */
export function registerWebgpuKernels(): void {
  for (const config of webgpuKernelConfigs) {
    if (!getKernel(config.kernelName, config.backendName)) registerKernel(config);
  }
}
