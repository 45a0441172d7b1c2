// A PEFT adapter as bytes: adapter_config.json + adapter_model.safetensors, or one .safetensors file
// with the config in its `__metadata__`.
import * as tf from '@tensorflow/tfjs-core';
import { AdapterFormatError, LoraConfigError } from '../errors/index.js';
import { parseSafetensors, safetensorsTensors } from '../safetensors.js';
import { encodeSafetensors, rawSafetensorsInputs } from '../safetensors-write.js';
import { peftAdapter, type PeftAdapter } from './adapter.js';

/** PEFT's file names in an adapter directory. */
export const ADAPTER_CONFIG_NAME = 'adapter_config.json';
/** PEFT's weights file name (safetensors). */
export const ADAPTER_WEIGHTS_NAME = 'adapter_model.safetensors';
/** The `__metadata__` key holding adapter_config.json (as JSON text) in the single-file form. */
export const PEFT_CONFIG_METADATA_KEY = 'adapter_config';

/** An adapter's two files as data: usable anywhere (browser, worker, Node). */
export interface PeftAdapterFiles {
  /** adapter_config.json: its text, UTF-8 bytes, or the parsed object. */
  config: string | Uint8Array | Readonly<Record<string, unknown>>;
  /** adapter_model.safetensors bytes. */
  weights: Uint8Array | ArrayBuffer;
}

/** The parsed adapter_config.json object of `files`. */
export function configObject(config: PeftAdapterFiles['config']): Record<string, unknown> {
  if (typeof config === 'object' && !(config instanceof Uint8Array)) return { ...config };
  const text = typeof config === 'string' ? config : new TextDecoder().decode(config);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new LoraConfigError(
      `${ADAPTER_CONFIG_NAME} is not valid JSON (${(e as Error).message}). Use the file PEFT's save_pretrained wrote.`,
      { cause: e },
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new LoraConfigError(
      `${ADAPTER_CONFIG_NAME} must hold a JSON object; found ${JSON.stringify(parsed)?.slice(0, 60)}.`,
    );
  }
  return parsed as Record<string, unknown>;
}

/** adapter_config.json text as PEFT writes it (sorted keys, two-space indent). */
export function configText(config: Readonly<Record<string, unknown>>): string {
  const sorted = Object.fromEntries(
    Object.keys(config)
      .sort()
      .map((k) => [k, config[k]]),
  );
  return `${JSON.stringify(sorted, null, 2)}\n`;
}

/**
 * Reads an adapter from its files: validates the safetensors bytes and the config, and groups the
 * tensors (see `peftAdapter`). The tensors may share memory with `files.weights` (zero-copy).
 */
export function decodePeftAdapter(files: PeftAdapterFiles): PeftAdapter {
  if (!files || typeof files !== 'object' || files.weights === undefined || files.config === undefined) {
    throw new AdapterFormatError(
      `An adapter's files must be {config, weights} (adapter_config.json and adapter_model.safetensors); found ${typeof files}.`,
    );
  }
  const config = configObject(files.config);
  const parsed = parseSafetensors(files.weights);
  const tensors = safetensorsTensors(parsed);
  try {
    return peftAdapter({ config, tensors, metadata: parsed.metadata });
  } catch (e) {
    tf.dispose(Object.values(tensors));
    throw e;
  }
}

/**
 * The single-file form: one safetensors file whose `__metadata__` holds the PEFT metadata plus
 * `adapter_config` (the config as JSON text). Tensors are copied unchanged.
 */
export function toSingleFile(files: PeftAdapterFiles): Uint8Array {
  const parsed = parseSafetensors(files.weights);
  const metadata = {
    ...(parsed.metadata ?? { format: 'pt' }),
    [PEFT_CONFIG_METADATA_KEY]: JSON.stringify(configObject(files.config)),
  };
  return encodeSafetensors(rawSafetensorsInputs(parsed.tensors), metadata);
}

/** True when a safetensors file carries an adapter config in its metadata (the single-file form). */
export function isSingleFile(bytes: Uint8Array | ArrayBuffer): boolean {
  const m = parseSafetensors(bytes).metadata;
  return m !== null && Object.hasOwn(m, PEFT_CONFIG_METADATA_KEY);
}

/** Splits the single-file form back into adapter_config.json and adapter_model.safetensors as PEFT writes them. */
export function fromSingleFile(bytes: Uint8Array | ArrayBuffer): PeftAdapterFiles {
  const parsed = parseSafetensors(bytes);
  const meta = parsed.metadata;
  if (!meta || !Object.hasOwn(meta, PEFT_CONFIG_METADATA_KEY)) {
    throw new AdapterFormatError(
      `This safetensors file has no "${PEFT_CONFIG_METADATA_KEY}" in its __metadata__ (found keys: ${Object.keys(meta ?? {}).join(', ') || 'none'}), ` +
        `so it is not a single-file adapter. Load the PEFT directory (adapter_config.json + ${ADAPTER_WEIGHTS_NAME}) instead.`,
    );
  }
  const rest = Object.fromEntries(Object.entries(meta).filter(([k]) => k !== PEFT_CONFIG_METADATA_KEY));
  return {
    config: configObject(meta[PEFT_CONFIG_METADATA_KEY]!),
    weights: encodeSafetensors(
      rawSafetensorsInputs(parsed.tensors),
      Object.keys(rest).length > 0 ? rest : { format: 'pt' },
    ),
  };
}
