// The conformance suite through @tfjs-lora/backend-cuda's 'cuda' backend code path on a machine without
// a GPU: tfjs-node-gpu's JavaScript on the CPU build of the binding (build:native), accepted by the
// test-only switch `allowCpuDevice`. On a real NVIDIA machine, drop the switch to run it on the GPU.
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-layers';
import { registerCudaBackend } from '@tfjs-lora/backend-cuda';
import { describeBackendConformance } from './describe-conformance.js';

registerCudaBackend({ allowCpuDevice: true });
await describeBackendConformance('cuda', {
  title: 'conformance: cuda (tfjs-node-gpu code path, CPU device accepted for the test)',
  require: process.env['TFJS_LORA_REQUIRE_NATIVE'] === '1',
});
