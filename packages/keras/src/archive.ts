// A Keras 3 `.keras` file: a zip of config.json (the model's topology), model.weights.h5 (the weights, one
// HDF5 group per layer) and metadata.json. Read with fflate (unzip) and jsfive (HDF5), both pure JS.
import { unzipSync } from 'fflate';
import * as hdf5 from 'jsfive';
import { ModelFormatError } from '@tfjs-lora/core';

/** A float32 array read from the HDF5 file, with its shape. */
export interface H5Array {
  readonly shape: number[];
  readonly data: Float32Array;
}

/** An HDF5 group as a plain tree: sub-groups and arrays by name. */
export interface H5Group {
  readonly groups: Map<string, H5Group>;
  readonly arrays: Map<string, H5Array>;
}

/** The parts of a `.keras` file. */
export interface KerasArchive {
  /** config.json: `{ class_name, config, ... }` as Keras serialises the model. */
  readonly config: Record<string, unknown>;
  /** metadata.json (`keras_version`, `date_saved`), when present. */
  readonly metadata: Record<string, unknown>;
  /** model.weights.h5 as a tree (`layers/<name>/vars/0`, ...). */
  readonly weights: H5Group;
}

const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];
const HDF5_MAGIC = [0x89, 0x48, 0x44, 0x46];

/** Whether `bytes` start like a zip file (a `.keras` file is one). */
export function isZip(bytes: Uint8Array): boolean {
  return ZIP_MAGIC.every((b, i) => bytes[i] === b);
}

/** Whether `bytes` start like an HDF5 file (a Keras 2 `.h5`). */
export function isHdf5(bytes: Uint8Array): boolean {
  return HDF5_MAGIC.every((b, i) => bytes[i] === b);
}

function toFloat32(value: unknown, path: string): Float32Array {
  if (value instanceof Float32Array) return value;
  if (value instanceof Float64Array || Array.isArray(value) || ArrayBuffer.isView(value))
    return Float32Array.from(value as ArrayLike<number>);
  throw new ModelFormatError(`The weight '${path}' in model.weights.h5 is not numeric; expected a float array.`);
}

function readGroup(group: hdf5.Group, path: string): H5Group {
  const groups = new Map<string, H5Group>();
  const arrays = new Map<string, H5Array>();
  for (const key of group.keys) {
    const child = group.get(key);
    const childPath = path === '' ? key : `${path}/${key}`;
    if (child instanceof hdf5.Group) groups.set(key, readGroup(child, childPath));
    else arrays.set(key, { shape: [...child.shape], data: toFloat32(child.value, childPath) });
  }
  return { groups, arrays };
}

/** Reads an HDF5 file into an {@link H5Group} tree. */
export function readHdf5(bytes: Uint8Array, name: string): H5Group {
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  let file: hdf5.File;
  try {
    file = new hdf5.File(buffer, name);
  } catch (e) {
    throw new ModelFormatError(`${name} is not a readable HDF5 file (${(e as Error).message}).`, { cause: e });
  }
  return readGroup(file, '');
}

function json(entries: Record<string, Uint8Array>, name: string, where: string): Record<string, unknown> | undefined {
  const bytes = entries[name];
  if (bytes === undefined) return undefined;
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
  } catch (e) {
    throw new ModelFormatError(`${name} in ${where} is not valid JSON (${(e as Error).message}).`, { cause: e });
  }
}

/** Unzips a `.keras` file and reads its config and weights. `where` names it in errors. */
export function readKerasArchive(bytes: Uint8Array, where: string): KerasArchive {
  if (!isZip(bytes))
    throw new ModelFormatError(`${where} is not a .keras file: expected a zip archive (Keras 3's model.save format).`);
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes);
  } catch (e) {
    throw new ModelFormatError(`${where} is not a readable zip archive (${(e as Error).message}).`, { cause: e });
  }
  const config = json(entries, 'config.json', where);
  const h5 = entries['model.weights.h5'];
  if (config === undefined || h5 === undefined)
    throw new ModelFormatError(
      `${where} lacks ${config === undefined ? 'config.json' : 'model.weights.h5'}; found ${Object.keys(entries).join(', ')}. ` +
        'Expected a file written by Keras 3 model.save("model.keras").',
    );
  return {
    config,
    metadata: json(entries, 'metadata.json', where) ?? {},
    weights: readHdf5(h5, `model.weights.h5 in ${where}`),
  };
}
