// model.weights.h5 → the tfjs model's weights. Keras 3 names each layer's HDF5 group after its class, not
// its name (`layers/dense`, `layers/dense_1`, in the order of the container's layers; a Sequential's
// InputLayer does not count), keeps a layer's variables in `vars/0..n` (creation order) and those of
// sub-layers under `cell/`, `forward_layer/`, `backward_layer/`, `layer/`. tfjs-layers orders each layer's
// weights the same way (kernel, recurrent kernel, bias; forward before backward), checked by shape.
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { ModelFormatError } from '@tfjs-lora/core';
import type { H5Array, H5Group } from './archive.js';

type Dict = Record<string, unknown>;
type Layer = LayersModel['layers'][number];

/** Keras's `naming.to_snake_case`: `DepthwiseConv2D` → `depthwise_conv2d`, `LSTM` → `lstm`, `ReLU` → `re_lu`. */
export function toSnakeCase(name: string): string {
  return name
    .replace(/\W+/g, '')
    .replace(/(.)([A-Z][a-z]+)/g, '$1_$2')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase();
}

/** The HDF5 group name of each layer in a container, as Keras's saving_lib gives them. */
export function h5Names(classNames: readonly string[]): string[] {
  const used = new Map<string, number>();
  return classNames.map((className) => {
    const base = toSnakeCase(className);
    const n = used.get(base);
    used.set(base, n === undefined ? 0 : n + 1);
    return n === undefined ? base : `${base}_${n + 1}`;
  });
}

const CHILD_ORDER = ['cell', 'forward_layer', 'backward_layer', 'layer', 'cells'];

/** A layer group's arrays: own `vars/0..n` numerically, then sub-layers (cell, forward, backward, ...). */
function collectArrays(group: H5Group): H5Array[] {
  const vars = group.groups.get('vars');
  const own = vars ? [...vars.arrays.entries()].sort(([a], [b]) => Number(a) - Number(b)).map(([, arr]) => arr) : [];
  const children = [...group.groups.keys()]
    .filter((k) => k !== 'vars')
    .sort((a, b) => {
      const ia = CHILD_ORDER.indexOf(a);
      const ib = CHILD_ORDER.indexOf(b);
      return (
        (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) ||
        (/^\d+$/.test(a) && /^\d+$/.test(b) ? Number(a) - Number(b) : a < b ? -1 : 1)
      );
    });
  return [...own, ...children.flatMap((k) => collectArrays(group.groups.get(k)!))];
}

function findLayer(container: LayersModel, name: string): Layer {
  try {
    return container.getLayer(name);
  } catch (e) {
    throw new ModelFormatError(`The rebuilt model has no layer '${name}' (${(e as Error).message}).`, { cause: e });
  }
}

/**
 * Sets the weights of `container` (built from the converted config) from the Keras HDF5 `group` of the
 * same container, walking `entries` (the Keras config's layer list) for the names.
 */
export function assignWeights(
  container: LayersModel,
  kerasConfig: Dict,
  className: string,
  group: H5Group,
  path = '',
): void {
  const entries = (Array.isArray(kerasConfig['layers']) ? kerasConfig['layers'] : []) as Dict[];
  const counted = className === 'Sequential' ? entries.filter((e) => e['class_name'] !== 'InputLayer') : entries;
  const names = h5Names(counted.map((e) => String(e['class_name'])));
  const layersGroup = group.groups.get('layers');
  counted.forEach((entry, i) => {
    const entryClass = String(entry['class_name']);
    const config = entry['config'] as Dict;
    const name = String(entry['name'] ?? config['name']);
    const where = path === '' ? name : `${path}.${name}`;
    const layerGroup = layersGroup?.groups.get(names[i]!);
    if (entryClass === 'InputLayer') return;
    const layer = findLayer(container, name);
    if (entryClass === 'Functional' || entryClass === 'Sequential' || entryClass === 'Model') {
      if (layerGroup === undefined)
        throw new ModelFormatError(`model.weights.h5 has no group '${names[i]}' for the nested model ${where}.`);
      assignWeights(layer as unknown as LayersModel, config, entryClass, layerGroup, where);
      return;
    }
    const arrays = layerGroup === undefined ? [] : collectArrays(layerGroup);
    const expected = layer.weights.map((w) => w.shape as number[]);
    const ok = arrays.length === expected.length && arrays.every((a, j) => tf.util.arraysEqual(a.shape, expected[j]!));
    if (!ok)
      throw new ModelFormatError(
        `The weights of layer ${where} (${entryClass}) do not fit: tfjs-layers expects shapes ` +
          `${JSON.stringify(expected)}, model.weights.h5 group '${names[i]}' holds ${JSON.stringify(arrays.map((a) => a.shape))}. ` +
          'The file may come from another Keras version or a layer option tfjs-layers lacks.',
      );
    if (arrays.length === 0) return;
    const tensors = arrays.map((a) => tf.tensor(a.data, a.shape, 'float32'));
    try {
      layer.setWeights(tensors);
    } finally {
      tf.dispose(tensors);
    }
  });
}
