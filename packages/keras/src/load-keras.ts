// A `.keras` file's bytes → a tf.LayersModel with Keras's weights.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { ensureLayersConfigFixes, LoraError, ModelFormatError } from '@tfjs-lora/core';
import { isHdf5, readKerasArchive, type KerasArchive } from './archive.js';
import { convertKerasConfig } from './convert-config.js';
import { assignLegacyWeights, readLegacyH5 } from './legacy-h5.js';
import { restoreUnitForgetBias, withoutUnitForgetBias } from './leaky-init.js';
import { ensureTensorMethods } from './tensor-methods.js';
import { assignWeights } from './weights.js';

/** Options of {@link loadKerasModel}. */
export interface LoadKerasOptions {
  /** How the file is named in errors (default `'the .keras file'`). */
  description?: string;
}

/**
 * Builds the tfjs-layers model `config` describes, without running its initializers (tfjs's own
 * fast-init path for models whose weights follow), so Orthogonal and other slow initializers cost nothing.
 */
async function buildModel(topology: Record<string, unknown>, where: string): Promise<tfl.LayersModel> {
  ensureTensorMethods();
  ensureLayersConfigFixes();
  const artifacts: tf.io.ModelArtifacts = {
    modelTopology: topology as unknown as tf.io.ModelArtifacts['modelTopology'],
    format: 'layers-model',
    weightSpecs: [],
    weightData: new ArrayBuffer(0),
  };
  try {
    return await tfl.loadLayersModel(tf.io.fromMemory(artifacts), { strict: false });
  } catch (e) {
    if (LoraError.isInstance(e)) throw e;
    throw new ModelFormatError(
      `tfjs-layers could not build the model in ${where} from its converted config: ${(e as Error).message}`,
      { cause: e },
    );
  }
}

/** Builds the model a Keras config describes, then sets its weights with `assign`; disposes it on failure. */
async function modelFromConfig(
  config: Record<string, unknown>,
  where: string,
  assign: (model: tfl.LayersModel) => void,
): Promise<tfl.LayersModel> {
  const { topology, names } = withoutUnitForgetBias(convertKerasConfig(config));
  const model = await buildModel(topology, where);
  try {
    restoreUnitForgetBias(model, names);
    assign(model);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}

/** Converts a read {@link KerasArchive} into a tf.LayersModel (config rewritten, weights set). */
export async function kerasArchiveToModel(archive: KerasArchive, where: string): Promise<tfl.LayersModel> {
  const className = String(archive.config['class_name']);
  return modelFromConfig(archive.config, where, (model) =>
    assignWeights(model, archive.config['config'] as Record<string, unknown>, className, archive.weights),
  );
}

/** Reads a legacy `.h5` model (Keras 2's format, or Keras 3's `model.save("m.h5")`) into a tf.LayersModel. */
export async function legacyH5ToModel(bytes: Uint8Array, where: string): Promise<tfl.LayersModel> {
  const legacy = readLegacyH5(bytes, where);
  return modelFromConfig(legacy.config, where, (model) => assignLegacyWeights(model, legacy));
}

/**
 * Loads a Keras 3 `.keras` file (the bytes of what `model.save("m.keras")` writes), or a legacy `.h5` model
 * (Keras 2, or Keras 3's `model.save("m.h5")`), as a tf.LayersModel with the same outputs. Throws an `UnsupportedKerasModelError` naming every layer or option tfjs-layers
 * lacks, or a `ModelFormatError` for files that are not `.keras` files.
 *
 * @example
 * const model = await loadKerasModel(new Uint8Array(await (await fetch('/m.keras')).arrayBuffer()));
 */
export async function loadKerasModel(bytes: Uint8Array, options: LoadKerasOptions = {}): Promise<tfl.LayersModel> {
  const where = options.description ?? 'the .keras file';
  if (isHdf5(bytes)) return legacyH5ToModel(bytes, where);
  return kerasArchiveToModel(readKerasArchive(bytes, where), where);
}
