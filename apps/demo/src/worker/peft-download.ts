// PEFT's two files as the page downloads them: adapter_config.json as text, the safetensors as bytes.
import type { PeftAdapterFiles } from '@tfjs-lora/core';

/** `encodePeftAdapterAsync`'s files as `{ config: text, weights: bytes }` (the worker's reply to the page). */
export function peftDownload(files: PeftAdapterFiles): { config: string; weights: Uint8Array } {
  const c = files.config;
  const config =
    typeof c === 'string'
      ? c
      : c instanceof Uint8Array
        ? new TextDecoder().decode(c)
        : `${JSON.stringify(c, null, 2)}\n`;
  return { config, weights: files.weights instanceof Uint8Array ? files.weights : new Uint8Array(files.weights) };
}
