// A ViT PEFT adapter under transformers 4's module names → the same adapter under transformers 5's, for PEFT
// running under transformers 5 (PEFT 0.21 does not rename ViT adapters itself).
import { AdapterFormatError, type PeftAdapterFiles } from '@tfjs-lora/core';

/** transformers 4 → 5 module-name renamings of ViT, in the order of transformers 5.18's `conversion_mapping.py`. */
const V4_TO_V5: readonly (readonly [RegExp, string])[] = [
  [/encoder\.layer\./g, 'layers.'],
  [/attention\.attention\.query/g, 'attention.q_proj'],
  [/attention\.attention\.key/g, 'attention.k_proj'],
  [/attention\.attention\.value/g, 'attention.v_proj'],
  [/attention\.output\.dense/g, 'attention.o_proj'],
  [/intermediate\.dense/g, 'mlp.fc1'],
  [/output\.dense/g, 'mlp.fc2'],
];

/** A module path or tensor key of a ViT in transformers 4's names, in transformers 5's. */
export function vitTransformers5Name(name: string): string {
  return V4_TO_V5.reduce((s, [pattern, replacement]) => s.replace(pattern, replacement), name);
}

/** The safetensors bytes with every tensor key renamed (the data is copied unchanged; the header is rewritten). */
function renameSafetensorsKeys(input: Uint8Array | ArrayBuffer, rename: (key: string) => string): Uint8Array {
  const bytes = input instanceof Uint8Array ? input : new Uint8Array(input);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = bytes.byteLength >= 8 ? Number(view.getBigUint64(0, true)) : -1;
  if (headerLength < 2 || 8 + headerLength > bytes.byteLength)
    throw new AdapterFormatError(
      `adapter_model.safetensors is not a safetensors file (header length ${headerLength}, ${bytes.byteLength} bytes). Pass the bytes encodePeftAdapterAsync returned.`,
    );
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength))) as Record<string, unknown>;
  const renamed = Object.fromEntries(Object.entries(header).map(([k, v]) => [k === '__metadata__' ? k : rename(k), v]));
  let text = JSON.stringify(renamed);
  text += ' '.repeat((8 - ((new TextEncoder().encode(text).byteLength + 8) % 8)) % 8); // data stays 8-byte aligned
  const encoded = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + encoded.byteLength + bytes.byteLength - 8 - headerLength);
  new DataView(out.buffer).setBigUint64(0, BigInt(encoded.byteLength), true);
  out.set(encoded, 8);
  out.set(bytes.subarray(8 + headerLength), 8 + encoded.byteLength);
  return out;
}

/** The LoRA module paths of the adapter's keys (`base_model.model.<path>.lora_A.weight`). */
function loraModules(keys: readonly string[]): string[] {
  const modules = keys.map((k) => /^base_model\.model\.(.+)\.lora_A(?:\.[^.]+)?\.weight$/.exec(k)?.[1]);
  return [...new Set(modules.filter((m): m is string => m !== undefined))].sort();
}

/**
 * A ViT adapter's files (what `encodePeftAdapterAsync(lora)` returns for a model of the 'hf-vision' format,
 * whose keys use transformers 4's names) with transformers 5's names, for PEFT under transformers 5:
 * tensor keys renamed (`vit.encoder.layer.0.attention.attention.query` → `vit.layers.0.attention.q_proj`),
 * `target_modules` set to the renamed module paths, `rank_pattern`/`alpha_pattern`/`modules_to_save` renamed.
 * PEFT 0.21 under transformers 5.18 loads transformers 4 ViT adapters with no error but leaves their LoRA B at
 * zero (or finds no target module); under transformers 4 keep the files as they are.
 *
 * @example
 * const files = vitAdapterForTransformers5(await encodePeftAdapterAsync(lora));
 * // write files.weights to adapter_model.safetensors and configText(files.config) to adapter_config.json
 */
export function vitAdapterForTransformers5(files: PeftAdapterFiles): PeftAdapterFiles & {
  config: Record<string, unknown>;
  weights: Uint8Array;
} {
  const weights = renameSafetensorsKeys(files.weights, vitTransformers5Name);
  const config =
    typeof files.config === 'object' && !(files.config instanceof Uint8Array)
      ? { ...files.config }
      : (JSON.parse(typeof files.config === 'string' ? files.config : new TextDecoder().decode(files.config)) as Record<
          string,
          unknown
        >);
  const headerLength = Number(new DataView(weights.buffer).getBigUint64(0, true));
  const keys = Object.keys(JSON.parse(new TextDecoder().decode(weights.subarray(8, 8 + headerLength))) as object);
  config['target_modules'] = loraModules(keys);
  for (const field of ['rank_pattern', 'alpha_pattern']) {
    const pattern = config[field];
    if (pattern && typeof pattern === 'object')
      config[field] = Object.fromEntries(Object.entries(pattern).map(([k, v]) => [vitTransformers5Name(k), v]));
  }
  if (Array.isArray(config['modules_to_save']))
    config['modules_to_save'] = (config['modules_to_save'] as string[]).map(vitTransformers5Name);
  return { config, weights };
}
