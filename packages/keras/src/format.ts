// The 'keras' model format for @tfjs-lora/core's loadPretrained: a Keras 3 `.keras` file.
import { ModelFormatError, registerModelFormat, type ModelFiles, type ModelFormat } from '@tfjs-lora/core';
import { isHdf5, isZip, readKerasArchive } from './archive.js';
import { kerasArchiveToModel, legacyH5ToModel } from './load-keras.js';

/** The `.keras` file in `files`: the entry the user named, or the only `.keras` file of a folder. */
async function kerasFileName(files: ModelFiles): Promise<string | { reason: string }> {
  if (files.entry !== undefined) {
    if (/\.json$/i.test(files.entry)) return { reason: `${files.entry} is not a .keras file` };
    return files.entry;
  }
  const names = await files.list();
  if (names === undefined) return { reason: "a folder URL cannot be listed; give the .keras file's URL" };
  const keras = names.filter((n) => /\.(keras|h5)$/i.test(n));
  if (keras.length === 1) return keras[0]!;
  return {
    reason: keras.length === 0 ? 'no .keras or .h5 file' : `several .keras/.h5 files (${keras.join(', ')}); name one`,
  };
}

/** The file's bytes, read once per source: match and load both need them (a URL would be fetched twice). */
const readOnce = new WeakMap<ModelFiles, Map<string, Promise<Uint8Array | undefined>>>();
function readBytes(files: ModelFiles, name: string): Promise<Uint8Array | undefined> {
  let byName = readOnce.get(files);
  if (!byName) readOnce.set(files, (byName = new Map()));
  let bytes = byName.get(name);
  if (!bytes) byName.set(name, (bytes = files.read(name)));
  return bytes;
}

/** Keras 3 `.keras` files (zip of config.json + model.weights.h5) and legacy `.h5` models, as tf.LayersModels. */
export const kerasFormat: ModelFormat = {
  name: 'keras',
  packageName: '@tfjs-lora/keras',
  async match(files) {
    if (files.ioHandler) return 'an IOHandler gives tfjs artifacts, not a .keras file';
    const name = await kerasFileName(files);
    if (typeof name !== 'string') return name.reason;
    const bytes = await readBytes(files, name);
    if (bytes === undefined) return `no ${name}`;
    if (isZip(bytes) || isHdf5(bytes)) return true;
    return `${name} is neither a zip archive (a .keras file) nor an HDF5 file (a legacy .h5 model)`;
  },
  async load(files, options) {
    const name = await kerasFileName(files);
    if (typeof name !== 'string') throw new ModelFormatError(`No .keras file in ${files.description}: ${name.reason}.`);
    options.onProgress?.(0, `reading ${name}`);
    const bytes = await readBytes(files, name);
    readOnce.delete(files);
    const where = `${name} (${files.description})`;
    if (bytes === undefined) throw new ModelFormatError(`${where} is missing.`);
    const model = isHdf5(bytes)
      ? await legacyH5ToModel(bytes, where)
      : await kerasArchiveToModel(readKerasArchive(bytes, where), where);
    options.onProgress?.(1, 'model built');
    return model;
  },
};

/**
 * Registers the 'keras' format with core's `loadPretrained`. Importing `@tfjs-lora/keras` does this; call it
 * when a bundler drops the import's side effect.
 */
export function registerKerasFormat(): void {
  registerModelFormat(kerasFormat);
}
