// Side effect of importing the package entry: register the 'webgpu' LoRA backend and its fused kernels.
import { registerWebgpuBackend } from './webgpu-backend.js';

registerWebgpuBackend();
