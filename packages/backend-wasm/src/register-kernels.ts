import * as tf from '@tensorflow/tfjs-core';
import { batchMatMulConfig } from './kernels/BatchMatMul.js';
import { conv2DBackpropFilterConfig } from './kernels/Conv2DBackpropFilter.js';
import { conv2DBackpropInputConfig } from './kernels/Conv2DBackpropInput.js';
import { depthwiseConv2dNativeBackpropFilterConfig } from './kernels/DepthwiseConv2dNativeBackpropFilter.js';
import { depthwiseConv2dNativeBackpropInputConfig } from './kernels/DepthwiseConv2dNativeBackpropInput.js';
import { gatherV2Config } from './kernels/GatherV2.js';
import { identityConfig } from './kernels/Identity.js';
import { maxPoolGradConfig } from './kernels/MaxPoolGrad.js';
import { overrideWasmKernel } from './kernels/originals.js';
import { sliceConfig } from './kernels/Slice.js';
import { transposeConfig } from './kernels/Transpose.js';
import { unsortedSegmentSumConfig } from './kernels/UnsortedSegmentSum.js';

/** The training kernels that @tensorflow/tfjs-backend-wasm 4.22 lacks, composed from kernels it has. */
export const trainingKernelConfigs: readonly tf.KernelConfig[] = [
  conv2DBackpropFilterConfig,
  depthwiseConv2dNativeBackpropInputConfig,
  depthwiseConv2dNativeBackpropFilterConfig,
  unsortedSegmentSumConfig,
];

/** Faster replacements for kernels tfjs-backend-wasm 4.22 has but runs slowly in backward passes. */
export const fasterKernelConfigs: readonly tf.KernelConfig[] = [
  conv2DBackpropInputConfig,
  batchMatMulConfig,
  maxPoolGradConfig,
  transposeConfig,
  identityConfig,
  sliceConfig,
  gatherV2Config,
];

/**
 * Registers {@link trainingKernelConfigs} for 'wasm' (tfjs's `registerKernel`). A kernel that is
 * already registered for 'wasm' (a later tfjs-backend-wasm that has it, or a second call) is left
 * alone. Returns the names registered by this call. Safe before the wasm backend is loaded.
 */
export function registerTrainingKernels(): string[] {
  const added: string[] = [];
  for (const config of trainingKernelConfigs) {
    if (tf.getKernel(config.kernelName, config.backendName)) continue;
    tf.registerKernel(config);
    added.push(config.kernelName);
  }
  return added;
}

/**
 * Replaces tfjs-backend-wasm's `Conv2DBackpropInput`, `BatchMatMul`, `MaxPoolGrad`, `Transpose`, `Identity`,
 * `Slice` and `GatherV2` with {@link fasterKernelConfigs}
 * (each keeps the original for the cases it delegates). Needs @tensorflow/tfjs-backend-wasm imported;
 * the wasm LoRA backend calls it in `init()`. Idempotent; returns the names replaced by this call.
 */
export function registerFasterKernels(): string[] {
  return fasterKernelConfigs.filter((c) => overrideWasmKernel(c)).map((c) => c.kernelName);
}
