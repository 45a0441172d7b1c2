// The TensorFlow.js backend a command runs on, from its `--backend` option. Nothing in the CLI reads tensor
// data synchronously, so every command runs on every backend, WebGPU in Node included.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { LoraConfigError, useBackend } from '@tfjs-lora/core';

/** The values of `--backend`. */
export const BACKEND_CHOICES = ['auto', 'cpu', 'wasm', 'webgpu', 'native'] as const;

/** One of {@link BACKEND_CHOICES}. */
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

/** The optional plugin each non-built-in choice needs (not dependencies of the CLI, except wasm). */
const PLUGINS: Partial<Record<BackendChoice, string>> = {
  wasm: '@tfjs-lora/backend-wasm',
  webgpu: '@tfjs-lora/backend-webgpu',
  native: '@tfjs-lora/backend-cuda',
};

/** Help text of the `--backend` option. */
export const BACKEND_HELP =
  'auto (wasm, else cpu), cpu, wasm, webgpu (@tfjs-lora/backend-webgpu + the webgpu package in Node) or native (@tfjs-lora/backend-cuda, built binding)';

/**
 * Imports the plugin `name` needs and makes it the active backend; returns the backend's name. `auto` is
 * wasm, then cpu: WebGPU is used only on request, since on machines without a GPU it runs on a software
 * rasteriser (slower than wasm). Production mode keeps tfjs's console banners out of the output.
 */
export async function selectBackend(name: string = 'auto'): Promise<string> {
  if (!(BACKEND_CHOICES as readonly string[]).includes(name)) {
    throw new LoraConfigError(`--backend expects one of ${BACKEND_CHOICES.join(', ')}; found '${name}'.`, {
      field: 'backend',
    });
  }
  tf.enableProdMode();
  const choice = name as BackendChoice;
  for (const wanted of choice === 'auto' ? (['wasm'] as const) : [choice]) {
    const spec = PLUGINS[wanted];
    if (!spec) continue;
    try {
      await import(/* @vite-ignore */ spec); // a variable: optional plugins must not be resolved at build time
    } catch (e) {
      if (choice === 'auto') continue;
      throw new LoraConfigError(
        `--backend ${choice} needs ${spec}${choice === 'webgpu' ? ' (and, in Node, the webgpu package)' : ''}, which could not be loaded: ${(e as Error).message.split('\n')[0]}`,
        { field: 'backend' },
      );
    }
  }
  return (await useBackend(choice === 'auto' ? ['wasm', 'cpu'] : choice)).name;
}
