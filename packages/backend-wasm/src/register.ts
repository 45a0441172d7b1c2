// Side effect of importing the package entry: register the 'wasm' LoRA backend and its kernels.
import { registerWasmBackend } from './wasm-backend.js';

registerWasmBackend();
