// PEFT adapters through TensorFlow.js's storage mechanism (tf.io IOHandlers): the adapter travels as
// ModelArtifacts whose modelTopology is adapter_config.json and whose weightData is the safetensors file,
// so tfjs's own handlers ('indexeddb://', tf.io.fromMemory, tf.io.withSaveHandler) store it unchanged.
import * as tf from '@tensorflow/tfjs-core';
import { AdapterFormatError, LoraError } from '../errors/index.js';
import { ADAPTER_CONFIG_NAME, ADAPTER_WEIGHTS_NAME, configObject, configText, type PeftAdapterFiles } from './files.js';

/** `ModelArtifacts.format` of a PEFT adapter stored through tf.io. */
export const PEFT_ARTIFACTS_FORMAT = 'peft-lora-safetensors';

function arrayBufferOf(bytes: Uint8Array | ArrayBuffer): ArrayBuffer {
  if (bytes instanceof ArrayBuffer) return bytes;
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

/** An adapter's files as tf.io ModelArtifacts (config as modelTopology, safetensors bytes as weightData). */
export function peftArtifacts(files: PeftAdapterFiles): tf.io.ModelArtifacts {
  return {
    modelTopology: configObject(files.config),
    format: PEFT_ARTIFACTS_FORMAT,
    generatedBy: 'tfjs-lora',
    weightSpecs: [],
    weightData: arrayBufferOf(files.weights),
  };
}

/** The adapter files inside ModelArtifacts written by {@link peftArtifacts}. */
export function peftFilesFromArtifacts(artifacts: tf.io.ModelArtifacts | undefined): PeftAdapterFiles {
  if (!artifacts || artifacts.format !== PEFT_ARTIFACTS_FORMAT) {
    throw new AdapterFormatError(
      `Expected tf.io artifacts of a PEFT adapter (format "${PEFT_ARTIFACTS_FORMAT}"); found format ${JSON.stringify(artifacts?.format)}. ` +
        'Save adapters with savePeftAdapter; a tfjs model is loaded with tf.loadLayersModel instead.',
    );
  }
  const topology = artifacts.modelTopology;
  if (typeof topology !== 'object' || topology === null || topology instanceof ArrayBuffer) {
    throw new AdapterFormatError(
      `PEFT adapter artifacts must carry adapter_config.json as a JSON object in modelTopology.`,
    );
  }
  const data = artifacts.weightData;
  if (data === undefined)
    throw new AdapterFormatError(`PEFT adapter artifacts have no weightData (the safetensors bytes).`);
  return {
    config: topology as Record<string, unknown>,
    weights: tf.io.concatenateArrayBuffers(Array.isArray(data) ? data : [data]),
  };
}

/**
 * A tfjs-style IOHandler that saves an adapter as two browser downloads named as PEFT names them
 * (`<prefix>adapter_config.json`, `<prefix>adapter_model.safetensors`), ready for `PeftModel.from_pretrained`.
 */
export function peftDownloads(prefix = ''): tf.io.IOHandler {
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      const doc = (
        globalThis as { document?: { createElement(tag: 'a'): { href: string; download: string; click(): void } } }
      ).document;
      const url = (globalThis as { URL?: { createObjectURL?(b: Blob): string; revokeObjectURL?(u: string): void } })
        .URL;
      if (!doc || typeof url?.createObjectURL !== 'function') {
        throw new LoraError(
          `peftDownloads needs a browser page (document and URL.createObjectURL); in Node save to a directory path instead.`,
        );
      }
      const files = peftFilesFromArtifacts(artifacts);
      const blobs: [string, Blob][] = [
        [ADAPTER_CONFIG_NAME, new Blob([configText(configObject(files.config))], { type: 'application/json' })],
        [ADAPTER_WEIGHTS_NAME, new Blob([arrayBufferOf(files.weights)], { type: 'application/octet-stream' })],
      ];
      for (const [name, blob] of blobs) {
        const a = doc.createElement('a');
        a.href = url.createObjectURL!(blob);
        a.download = `${prefix}${name}`;
        a.click();
        url.revokeObjectURL?.(a.href);
      }
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },
  };
}

/** A tfjs-style IOHandler that loads an adapter from user-selected files (an `<input type="file" multiple>`). */
export function peftBrowserFiles(files: ArrayLike<Blob & { name: string }>): tf.io.IOHandler {
  return {
    async load(): Promise<tf.io.ModelArtifacts> {
      const list = Array.from(files);
      const config = list.find((f) => f.name.endsWith(ADAPTER_CONFIG_NAME) || f.name.endsWith('.json'));
      const weights = list.find((f) => f.name.endsWith('.safetensors'));
      if (!config || !weights) {
        throw new AdapterFormatError(
          `Expected two files, ${ADAPTER_CONFIG_NAME} and ${ADAPTER_WEIGHTS_NAME}; found ${list.map((f) => f.name).join(', ') || 'none'}. ` +
            'Select both files of the adapter directory.',
        );
      }
      return peftArtifacts({
        config: new Uint8Array(await config.arrayBuffer()),
        weights: await weights.arrayBuffer(),
      });
    },
  };
}

async function fetchBytes(url: string): Promise<Uint8Array> {
  const f = (
    globalThis as {
      fetch?: (u: string) => Promise<{ ok: boolean; status: number; arrayBuffer(): Promise<ArrayBuffer> }>;
    }
  ).fetch;
  if (!f) throw new LoraError(`Loading ${url} needs fetch(), which this environment lacks.`);
  let res;
  try {
    res = await f(url);
  } catch (e) {
    throw new LoraError(`Fetching ${url} failed (${(e as Error).message}); check the URL and the network.`, {
      cause: e,
    });
  }
  if (!res.ok)
    throw new LoraError(
      `Fetching ${url} returned HTTP ${res.status}; expected 200. Check that the adapter's files are at this URL.`,
    );
  return new Uint8Array(await res.arrayBuffer());
}

/** Loads adapter_config.json and adapter_model.safetensors from a URL prefix (a directory URL, '/' added if missing). */
export async function fetchPeftFiles(url: string): Promise<PeftAdapterFiles> {
  const base = url.endsWith('/') ? url : `${url}/`;
  const [config, weights] = await Promise.all([
    fetchBytes(base + ADAPTER_CONFIG_NAME),
    fetchBytes(base + ADAPTER_WEIGHTS_NAME),
  ]);
  return { config, weights };
}

/** True for an object with a `load` or `save` function (a tf.io.IOHandler). */
export function isIOHandler(x: unknown): x is tf.io.IOHandler {
  return (
    typeof x === 'object' &&
    x !== null &&
    (typeof (x as tf.io.IOHandler).load === 'function' || typeof (x as tf.io.IOHandler).save === 'function')
  );
}

/** The tf.io handler for a URL scheme ('indexeddb://...', or any registered router); throws naming the scheme when none exists here. */
export function routedHandler(url: string, mode: 'load' | 'save'): tf.io.IOHandler {
  const handlers = mode === 'load' ? tf.io.getLoadHandlers(url) : tf.io.getSaveHandlers(url);
  if (handlers.length === 0) {
    const scheme = url.slice(0, url.indexOf('://') + 3);
    throw new LoraError(
      `No tf.io ${mode} handler for '${url}' in this environment. '${scheme}' needs its router (IndexedDB exists in browsers only); ` +
        'pass a directory path (Node), {config, weights} bytes or an IOHandler.',
    );
  }
  return handlers[0]!;
}
