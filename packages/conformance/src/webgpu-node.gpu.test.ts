// The conformance suite on WebGPU in Node: Dawn through the `webgpu` package (Mesa OpenGL on machines
// without a GPU driver, Vulkan where one is installed), with every op kept on the GPU.
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-layers';
import { disposeWebgpuBackend, registerWebgpuBackend } from '@tfjs-lora/backend-webgpu';
import { afterAll } from 'vitest';
import { describeBackendConformance } from './describe-conformance.js';

registerWebgpuBackend({ cpuHandoffThreshold: 0 }); // WEBGPU_CPU_HANDOFF_SIZE_THRESHOLD=0: nothing hides on the CPU
await describeBackendConformance('webgpu', {
  title: 'conformance: webgpu (Node, Dawn)',
  require: process.env['TFJS_LORA_REQUIRE_WEBGPU'] === '1',
});
afterAll(disposeWebgpuBackend);
