// loadPeftAdapter: an adapter from a directory (Node), a single .safetensors file, a URL, tf.io
// IOHandler, or bytes.
import type * as tf from '@tensorflow/tfjs-core';
import { AdapterFormatError } from '../errors/index.js';
import { isPeftAdapter, isPeftAdapterInput, peftAdapter, type PeftAdapter, type PeftAdapterInput } from './adapter.js';
import {
  ADAPTER_CONFIG_NAME,
  ADAPTER_WEIGHTS_NAME,
  decodePeftAdapter,
  fromSingleFile,
  isSingleFile,
  type PeftAdapterFiles,
} from './files.js';
import { fetchPeftFiles, isIOHandler, peftFilesFromArtifacts, routedHandler } from './io.js';
import { nodeFs, nodePath, pathKind } from '../node/fs.js';

/**
 * Where an adapter can come from: a directory with adapter_config.json + adapter_model.safetensors or a
 * single-file `.safetensors` (Node); an `http(s)://` directory URL; a tf.io URL such as `indexeddb://name`;
 * a tf.io.IOHandler; `{config, weights}` bytes; or an adapter already loaded.
 */
export type PeftAdapterSource = string | PeftAdapterFiles | tf.io.IOHandler | PeftAdapter | PeftAdapterInput;

async function readDirectory(dir: string): Promise<PeftAdapterFiles> {
  const fs = await nodeFs('Loading an adapter from a path');
  const path = await nodePath();
  const kind = await pathKind(fs, dir);
  if (kind === null)
    throw new AdapterFormatError(
      `No adapter at '${dir}': the path does not exist. Pass the directory PEFT's save_pretrained wrote.`,
    );
  if (kind === 'file') {
    const bytes = await fs.readFile(dir);
    if (!dir.endsWith('.safetensors') || !isSingleFile(bytes)) {
      throw new AdapterFormatError(
        `'${dir}' is a file; expected a PEFT adapter directory (${ADAPTER_CONFIG_NAME} + ${ADAPTER_WEIGHTS_NAME}) or a single-file adapter ` +
          '(.safetensors with adapter_config in its metadata, as `tfjs-lora convert` writes).',
      );
    }
    return fromSingleFile(bytes);
  }
  const entries = await fs.readdir(dir);
  if (!entries.includes(ADAPTER_CONFIG_NAME) || !entries.includes(ADAPTER_WEIGHTS_NAME)) {
    const subdirs: string[] = [];
    for (const e of entries) {
      if ((await pathKind(fs, path.join(dir, e, ADAPTER_CONFIG_NAME))) === 'file') subdirs.push(e);
    }
    const pickle = entries.includes('adapter_model.bin');
    throw new AdapterFormatError(
      `'${dir}' has no ${!entries.includes(ADAPTER_CONFIG_NAME) ? ADAPTER_CONFIG_NAME : ADAPTER_WEIGHTS_NAME}; found ${entries.slice(0, 10).join(', ') || 'nothing'}. ` +
        (pickle
          ? 'adapter_model.bin is a PyTorch pickle, which can run code when loaded and is not read here; re-save it in Python with save_pretrained(dir, safe_serialization=True).'
          : subdirs.length > 0
            ? `Named adapters are in sub-folders, as PEFT saves them: ${subdirs.map((s) => path.join(dir, s)).join(', ')}.`
            : "Pass the directory PEFT's save_pretrained wrote."),
    );
  }
  const [config, weights] = await Promise.all([
    fs.readFile(path.join(dir, ADAPTER_CONFIG_NAME)),
    fs.readFile(path.join(dir, ADAPTER_WEIGHTS_NAME)),
  ]);
  return { config, weights };
}

/** The adapter's files from any source but an adapter object. */
export async function readPeftFiles(
  source: Exclude<PeftAdapterSource, PeftAdapter | PeftAdapterInput>,
): Promise<PeftAdapterFiles> {
  if (typeof source === 'string') {
    if (/^https?:\/\//i.test(source)) return fetchPeftFiles(source);
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(source) && !/^file:\/\//i.test(source)) {
      const handler = routedHandler(source, 'load');
      return peftFilesFromArtifacts(await handler.load!());
    }
    return readDirectory(source.replace(/^file:\/\//i, ''));
  }
  if (isIOHandler(source)) {
    if (typeof source.load !== 'function')
      throw new AdapterFormatError(`This IOHandler cannot load (it has no load()); pass one made for loading.`);
    return peftFilesFromArtifacts(await source.load());
  }
  return source as PeftAdapterFiles;
}

/**
 * Loads a PEFT LoRA adapter: adapter_config.json (validated as `fromPeftJson` does) and
 * adapter_model.safetensors (validated as `parseSafetensors` does), tensors in PyTorch layout keyed as in
 * the file. Dispose it when done (`adapter.dispose()`), or pass it to `applyLora`, which copies what it needs.
 */
export async function loadPeftAdapter(source: PeftAdapterSource): Promise<PeftAdapter> {
  if (isPeftAdapter(source)) return source;
  if (typeof source === 'object' && source !== null && 'tensors' in source)
    return peftAdapter(source as PeftAdapterInput);
  return decodePeftAdapter(await readPeftFiles(source as Exclude<PeftAdapterSource, PeftAdapter | PeftAdapterInput>));
}

/**
 * Runs `fn` with the adapter from `source`: one loaded here (from files, a URL, an IOHandler, bytes) is
 * disposed when `fn` returns or throws; an adapter object passed in is used as it is and left to its owner.
 */
export async function withPeftAdapter<T>(source: PeftAdapterSource, fn: (adapter: PeftAdapter) => T): Promise<T> {
  const owned = !isPeftAdapterInput(source);
  const adapter = owned ? await loadPeftAdapter(source) : peftAdapter(source as PeftAdapterInput);
  try {
    return fn(adapter);
  } finally {
    if (owned) adapter.dispose();
  }
}
