// The legacy HDF5 model format (`model.save("m.h5")` of Keras 2, and of Keras 3 on request): one HDF5
// file whose root attribute `model_config` holds the model's config (Keras 2 or Keras 3 style) and whose
// `model_weights/<layer>` groups list their arrays in the attribute `weight_names`, in the layer's order.
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { ModelFormatError } from '@tfjs-lora/core';
import * as hdf5 from 'jsfive';
import type { H5Array } from './archive.js';

/** A legacy `.h5` model: its config and each layer's arrays in order. */
export interface LegacyH5Model {
  readonly config: Record<string, unknown>;
  /** Layer name → its arrays, in the order of `weight_names`. */
  readonly layers: Map<string, H5Array[]>;
}

const asStrings = (x: unknown): string[] => (Array.isArray(x) ? x.map(String) : x === undefined ? [] : [String(x)]);

/** Reads a legacy `.h5` model file. `where` names it in errors. */
export function readLegacyH5(bytes: Uint8Array, where: string): LegacyH5Model {
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  let file: hdf5.File;
  try {
    file = new hdf5.File(buffer, where);
  } catch (e) {
    throw new ModelFormatError(`${where} is not a readable HDF5 file (${(e as Error).message}).`, { cause: e });
  }
  const attrs = (file as unknown as { attrs: Record<string, unknown> }).attrs;
  const configText = attrs['model_config'];
  if (typeof configText !== 'string')
    throw new ModelFormatError(
      `${where} holds weights only (no model_config attribute); expected a whole model saved with model.save("m.h5"), ` +
        'or a .keras file.',
    );
  const root = file.get('model_weights');
  if (!(root instanceof hdf5.Group)) throw new ModelFormatError(`${where} has no model_weights group.`);
  const layers = new Map<string, H5Array[]>();
  for (const name of asStrings((root as unknown as { attrs: Record<string, unknown> }).attrs['layer_names'])) {
    const group = root.get(name) as hdf5.Group;
    const names = asStrings((group as unknown as { attrs: Record<string, unknown> }).attrs['weight_names']);
    layers.set(
      name,
      names.map((w) => {
        const d = group.get(w) as hdf5.Dataset;
        return { shape: [...d.shape], data: Float32Array.from(d.value as ArrayLike<number>) };
      }),
    );
  }
  return { config: JSON.parse(configText) as Record<string, unknown>, layers };
}

/** Sets each layer's weights from a {@link LegacyH5Model}, checking shapes. */
export function assignLegacyWeights(model: LayersModel, legacy: LegacyH5Model): void {
  for (const [name, arrays] of legacy.layers) {
    if (arrays.length === 0) continue;
    let layer;
    try {
      layer = model.getLayer(name);
    } catch (e) {
      throw new ModelFormatError(`The .h5 file has weights for layer '${name}', which the model lacks.`, { cause: e });
    }
    const expected = layer.weights.map((w) => w.shape as number[]);
    const ok = arrays.length === expected.length && arrays.every((a, i) => tf.util.arraysEqual(a.shape, expected[i]!));
    if (!ok)
      throw new ModelFormatError(
        `The weights of layer ${name} do not fit: tfjs-layers expects shapes ${JSON.stringify(expected)}, ` +
          `the .h5 file holds ${JSON.stringify(arrays.map((a) => a.shape))}.`,
      );
    const tensors = arrays.map((a) => tf.tensor(a.data, a.shape, 'float32'));
    try {
      layer.setWeights(tensors);
    } finally {
      tf.dispose(tensors);
    }
  }
}
