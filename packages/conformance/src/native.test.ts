// The conformance suite on native TensorFlow through @tfjs-lora/backend-cuda's 'native' backend: the
// tfjs-node binding that `pnpm --filter @tfjs-lora/backend-cuda build:native` compiles against the
// tensorflow-cpu wheel. Without that build the backend is a known gap with the reason (the rebuild
// command); with TFJS_LORA_REQUIRE_NATIVE=1 (CI, after a successful build) it must run.
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-layers';
import '@tfjs-lora/backend-cuda';
import { describeBackendConformance } from './describe-conformance.js';

await describeBackendConformance('native', {
  title: 'conformance: native (tfjs-node on TensorFlow, CPU)',
  require: process.env['TFJS_LORA_REQUIRE_NATIVE'] === '1',
});
