// Keras 3 config.json → the Keras-2-style topology tfjs-layers 4.22 deserialises: InputLayer `batch_shape`
// → `batch_input_shape`, DTypePolicy objects → dtype strings, Keras 3 `inbound_nodes` ({args, kwargs}
// with `__keras_tensor__`s) → `[[layer, node, tensor, kwargs], ...]`, initializer/regularizer names, and
// every layer checked against what tfjs-layers computes (layer-rules.ts).
import { ModelFormatError } from '@tfjs-lora/core';
import { UnsupportedKerasModelError, type KerasIncompatibility } from './errors.js';
import {
  INITIALIZERS,
  RENAMED_KEYS,
  SUPPORTED_CLASSES,
  ignoredOptions,
  mapActivation,
  mapRegularizer,
} from './layer-rules.js';

type Dict = Record<string, unknown>;

const isDict = (x: unknown): x is Dict => typeof x === 'object' && x !== null && !Array.isArray(x);
const MODEL_CLASSES = new Set(['Functional', 'Model', 'Sequential']);

/** Collects every incompatibility of a model before one error reports them all. */
class Problems {
  readonly list: KerasIncompatibility[] = [];
  add(layer: string, className: string, reason: string): void {
    this.list.push({ layer, className, reason });
  }
}

/** A DTypePolicy object or dtype string → the dtype tfjs-layers uses (float policies compute in float32). */
function dtypeOf(value: unknown): string | undefined {
  const name = isDict(value) ? (isDict(value['config']) ? value['config']['name'] : undefined) : value;
  if (typeof name !== 'string') return undefined;
  if (/float|^mixed_/.test(name)) return 'float32';
  return name;
}

/** An initializer, regularizer or constraint object without Keras 3's `module`/`registered_name`. */
function serialisable(value: unknown, kind: 'initializer' | 'regularizer' | 'constraint'): unknown {
  if (!isDict(value) || typeof value['class_name'] !== 'string') return value;
  const className = value['class_name'];
  const config = isDict(value['config']) ? { ...value['config'] } : {};
  if (kind === 'regularizer') return mapRegularizer(className, config) ?? { class_name: className, config };
  if (kind === 'initializer') {
    delete config['input_axes'];
    delete config['output_axes'];
    if (config['distribution'] === 'untruncated_normal') config['distribution'] = 'normal';
    return { class_name: INITIALIZERS[className] ?? className, config };
  }
  return { class_name: className, config };
}

function rewriteLayerConfig(className: string, input: Dict, path: string, problems: Problems): Dict {
  const config: Dict = { ...input };
  if (!SUPPORTED_CLASSES.has(className)) problems.add(path, className, 'tfjs-layers 4.22 has no such layer class');
  for (const option of ignoredOptions(className, config)) problems.add(path, className, option);
  for (const [from, to] of Object.entries(RENAMED_KEYS[className] ?? {}))
    if (from in config) {
      config[to] = config[from];
      delete config[from];
    }
  if ('dtype' in config) {
    const dtype = dtypeOf(config['dtype']);
    if (dtype === undefined) delete config['dtype'];
    else config['dtype'] = dtype;
  }
  for (const key of ['activation', 'recurrent_activation'])
    if (typeof config[key] === 'string') {
      const mapped = mapActivation(config[key] as string);
      if ('ok' in mapped) config[key] = mapped.ok;
      else problems.add(path, className, mapped.reason);
    }
  for (const key of Object.keys(config)) {
    if (key.endsWith('_initializer')) config[key] = serialisable(config[key], 'initializer');
    else if (key.endsWith('_regularizer')) config[key] = serialisable(config[key], 'regularizer');
    else if (key.endsWith('_constraint')) config[key] = serialisable(config[key], 'constraint');
  }
  if (className === 'InputLayer') {
    if (config['sparse'] === true || config['ragged'] === true)
      problems.add(path, className, 'sparse or ragged inputs (tfjs-layers has dense tensors only)');
    if ('batch_shape' in config) config['batch_input_shape'] = config['batch_shape'];
    for (const key of ['batch_shape', 'sparse', 'ragged', 'optional']) delete config[key];
  }
  if (className === 'TimeDistributed' || className === 'Bidirectional')
    config['layer'] = rewriteNested(config['layer'], `${path}.layer`, problems);
  if (className === 'Bidirectional' && config['backward_layer'] !== undefined) {
    const forward = (
      isDict(config['layer']) && isDict(config['layer']['config']) ? config['layer']['config'] : {}
    ) as Dict;
    const backward =
      isDict(config['backward_layer']) && isDict(config['backward_layer']['config'])
        ? config['backward_layer']['config']
        : {};
    if (backward['go_backwards'] !== !forward['go_backwards'] || backward['units'] !== forward['units'])
      problems.add(
        path,
        className,
        'a backward_layer that is not the forward layer reversed (tfjs-layers builds it itself)',
      );
    delete config['backward_layer'];
  }
  if (className === 'Softmax' && Array.isArray(config['axis']) && config['axis'].length === 1)
    config['axis'] = config['axis'][0];
  return config;
}

/** A layer serialised inside another's config (Bidirectional.layer, TimeDistributed.layer). */
function rewriteNested(entry: unknown, path: string, problems: Problems): Dict {
  if (!isDict(entry) || typeof entry['class_name'] !== 'string' || !isDict(entry['config']))
    throw new ModelFormatError(`The layer config at ${path} is malformed: expected { class_name, config }.`);
  return {
    class_name: entry['class_name'],
    config: rewriteLayerConfig(entry['class_name'], entry['config'], path, problems),
  };
}

/** `[name, node, tensor]` of a Keras 3 `__keras_tensor__`, or undefined for other values. */
function kerasHistory(x: unknown): [string, number, number] | undefined {
  if (!isDict(x) || x['class_name'] !== '__keras_tensor__' || !isDict(x['config'])) return undefined;
  const h = x['config']['keras_history'];
  return Array.isArray(h) && typeof h[0] === 'string' ? [h[0], Number(h[1]), Number(h[2])] : undefined;
}

function tensorsIn(x: unknown): [string, number, number][] {
  const h = kerasHistory(x);
  if (h) return [h];
  return Array.isArray(x) ? x.flatMap(tensorsIn) : [];
}

/** Keras 3 inbound nodes → tfjs-layers' `[[[layer, node, tensor, kwargs], ...], ...]`. */
function convertNodes(
  nodes: unknown,
  path: string,
  className: string,
  problems: Problems,
  models: ReadonlySet<string>,
): unknown[] {
  if (!Array.isArray(nodes)) return [];
  return nodes.map((node) => {
    if (Array.isArray(node)) return node; // already the Keras 2 format
    if (!isDict(node)) throw new ModelFormatError(`Layer ${path} has a malformed inbound node.`);
    const kwargs: Dict = {};
    for (const [key, value] of Object.entries(isDict(node['kwargs']) ? node['kwargs'] : {})) {
      if (value === null || value === undefined) continue;
      if (tensorsIn(value).length > 0)
        problems.add(
          path,
          className,
          `a tensor passed as the call argument '${key}' (tfjs-layers passes tensors positionally only)`,
        );
      else kwargs[key] = value;
    }
    // A nested model's node 0 is its own inner graph in tfjs-layers (and Keras 2): its calls count from 1.
    return tensorsIn(node['args']).map(([name, n, t]) => [name, models.has(name) ? n + 1 : n, t, kwargs]);
  });
}

/** `["name", 0, 0]` or `[["name", 0, 0], ...]` → the list form. */
function tensorList(x: unknown): unknown[] {
  if (!Array.isArray(x)) return [];
  return typeof x[0] === 'string' ? [x] : x;
}

function rewriteFunctional(config: Dict, path: string, problems: Problems): Dict {
  const layers = Array.isArray(config['layers']) ? (config['layers'] as Dict[]) : [];
  const models = new Set(
    layers.filter((l) => MODEL_CLASSES.has(String(l['class_name']))).map((l) => String(l['name'])),
  );
  // Keras 3 counts a nested model's calls from 0, Keras 2 and tfjs from 1 (node 0 is its inner graph).
  const keras3 = layers.some((l) => Array.isArray(l['inbound_nodes']) && l['inbound_nodes'].some(isDict));
  const shift = (list: unknown[]): unknown[] =>
    list.map((t) => (keras3 && Array.isArray(t) && models.has(String(t[0])) ? [t[0], Number(t[1]) + 1, t[2]] : t));
  return {
    name: config['name'],
    trainable: config['trainable'] ?? true,
    layers: layers.map((entry) => {
      const className = String(entry['class_name']);
      const name = String(entry['name'] ?? (entry['config'] as Dict)['name']);
      const where = path === '' ? name : `${path}.${name}`;
      const nestedSequential = className === 'Sequential';
      return {
        class_name: nestedSequential ? 'Functional' : className,
        name,
        config: nestedSequential
          ? sequentialAsFunctional(entry['config'] as Dict, where, problems)
          : rewriteAny(className, entry['config'] as Dict, where, problems),
        inbound_nodes: convertNodes(entry['inbound_nodes'], where, className, problems, models),
      };
    }),
    input_layers: tensorList(config['input_layers']),
    output_layers: shift(tensorList(config['output_layers'])),
  };
}

function rewriteSequential(config: Dict, path: string, problems: Problems): Dict {
  const entries = Array.isArray(config['layers']) ? [...(config['layers'] as Dict[])] : [];
  let batchInputShape: unknown = config['build_input_shape'];
  let inputDtype: unknown;
  if (entries[0]?.['class_name'] === 'InputLayer') {
    const input = entries.shift()!['config'] as Dict;
    batchInputShape = input['batch_shape'] ?? input['batch_input_shape'];
    inputDtype = dtypeOf(input['dtype']);
  }
  const layers = entries.map((entry) => {
    const className = String(entry['class_name']);
    const where = `${path === '' ? '' : `${path}.`}${String((entry['config'] as Dict)['name'])}`;
    return { class_name: className, config: rewriteAny(className, entry['config'] as Dict, where, problems) };
  });
  if (layers.length === 0) throw new ModelFormatError(`The Sequential model ${path || config['name']} has no layers.`);
  if (!Array.isArray(batchInputShape))
    throw new ModelFormatError(
      `The Sequential model ${String(config['name'])} was saved unbuilt (no input shape); build it in Keras (call it once or give an Input) and save again.`,
    );
  const first = layers[0]!.config;
  first['batch_input_shape'] = batchInputShape;
  if (inputDtype !== undefined && !MODEL_CLASSES.has(layers[0]!.class_name)) first['dtype'] = inputDtype;
  return { name: config['name'], layers };
}

/**
 * A Sequential nested in a functional model, as the equivalent Functional config: tfjs-layers 4.22 fails
 * ("Graph disconnected ... at layer dense_input") on a deserialised Sequential used as a layer.
 */
function sequentialAsFunctional(config: Dict, path: string, problems: Problems): Dict {
  const seq = rewriteSequential(config, path, problems);
  const layers = seq['layers'] as { class_name: string; config: Dict }[];
  const first = layers[0]!.config;
  const inputName = `${String(config['name'])}_input`;
  const input = {
    class_name: 'InputLayer',
    name: inputName,
    config: { name: inputName, batch_input_shape: first['batch_input_shape'], dtype: first['dtype'] ?? 'float32' },
    inbound_nodes: [],
  };
  delete first['batch_input_shape'];
  let previous = inputName;
  const chained = layers.map((l) => {
    const name = String(l.config['name']);
    const entry = { class_name: l.class_name, name, config: l.config, inbound_nodes: [[[previous, 0, 0, {}]]] };
    previous = name;
    return entry;
  });
  return {
    name: config['name'],
    trainable: config['trainable'] ?? true,
    layers: [input, ...chained],
    input_layers: [[inputName, 0, 0]],
    output_layers: [[previous, 0, 0]],
  };
}

function rewriteAny(className: string, config: Dict, path: string, problems: Problems): Dict {
  if (className === 'Sequential') return rewriteSequential(config, path, problems);
  if (className === 'Functional' || className === 'Model') return rewriteFunctional(config, path, problems);
  return rewriteLayerConfig(className, config, path, problems);
}

/**
 * Rewrites a Keras 3 model config (config.json's object) to the topology `tf.loadLayersModel` reads.
 * Throws an {@link UnsupportedKerasModelError} listing every layer class or option tfjs-layers lacks.
 */
export function convertKerasConfig(model: Dict): Dict {
  const className = model['class_name'];
  if (typeof className !== 'string' || !MODEL_CLASSES.has(className) || !isDict(model['config']))
    throw new ModelFormatError(
      `config.json describes a ${String(className)}; expected a Keras model (Functional or Sequential). ` +
        'Subclassed models have no config to rebuild from: rebuild them as functional models.',
    );
  const problems = new Problems();
  const config = rewriteAny(className === 'Model' ? 'Functional' : className, model['config'], '', problems);
  if (problems.list.length > 0) {
    const lines = problems.list.map((p) => `  - ${p.layer} (${p.className}): ${p.reason}`);
    throw new UnsupportedKerasModelError(
      `This Keras model uses ${problems.list.length} thing(s) tfjs-layers 4.22 cannot compute as Keras does:\n` +
        `${lines.join('\n')}\nReplace those layers or options in Keras (or drop them) and save again.`,
      problems.list,
    );
  }
  return { class_name: className === 'Sequential' ? 'Sequential' : 'Functional', config };
}
