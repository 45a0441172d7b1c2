// Browser page of the train-reads benchmark: WebGPU through tfjs-backend-webgpu (registered by the
// plugin on import), then the same measurement as in Node. (A dataSync-per-step variant is left out: in
// headless Chromium on SwiftShader tfjs-backend-webgpu's synchronous read loses the GPU instance.)
import '@tensorflow/tfjs-backend-cpu';
import '@tfjs-lora/backend-webgpu';
import { useBackend } from '@tfjs-lora/core';
import { describeAdapter, registerWebgpuBackend, webgpuAdapterReport } from '@tfjs-lora/backend-webgpu';
import { measureTrainReads, type TrainReadsOptions, type VariantResult } from './measure.js';

/** What the page returns to Node. */
export interface PageResult {
  adapter: string;
  results: VariantResult[];
}

async function runTrainReads(options: Partial<TrainReadsOptions>): Promise<PageResult> {
  registerWebgpuBackend({ cpuHandoffThreshold: 0 });
  const backend = await useBackend('webgpu');
  if (backend.name !== 'webgpu') throw new Error(`expected the webgpu backend, got ${backend.name}`);
  const results = await measureTrainReads(options);
  const report = await webgpuAdapterReport();
  return { adapter: report ? describeAdapter(report) : 'unknown adapter', results };
}

(globalThis as unknown as { runTrainReads: typeof runTrainReads }).runTrainReads = runTrainReads;
