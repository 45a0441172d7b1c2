// "Bring your model": loads a user's pretrained model through core's `loadPretrained` door (tfjs
// LayersModel or GraphModel model.json + shards, a Keras 3 .keras file, a Hugging Face folder's
// config.json + model.safetensors) from browser Files or a URL, and describes what was loaded.
import type { GraphModel } from '@tensorflow/tfjs-converter';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import {
  findLayerKind,
  listModelFormats,
  loadPretrained,
  registerModelFormat,
  type PretrainedSource,
} from '@tfjs-lora/core';
import { layersModelFormat, openModelFiles } from '@tfjs-lora/core/pretrained';
import { LoraGraphModel, registerGraph } from '@tfjs-lora/graph';
import { registerKerasFormat } from '@tfjs-lora/keras';
import { loadTokenizer, type HfTokenizer } from '@tfjs-lora/nlp';
import '@tfjs-lora/vision';
import type { ByomInfo, ByomTensor } from '../protocol.js';

// Explicit registration: the bundler drops the packages' import side effects (core's own LayersModel
// format included).
registerModelFormat(layersModelFormat);
registerGraph();
registerKerasFormat();

/** A loaded model, its description and (Hugging Face folders) its tokenizer. */
export interface LoadedModel {
  model: tfl.LayersModel | GraphModel;
  graph: boolean;
  info: ByomInfo;
  tokenizer?: HfTokenizer;
}

const dims = (shape: readonly (number | null | undefined)[] | undefined): (number | null)[] =>
  (shape ?? []).map((d) => (d === undefined || d === -1 ? null : d));

const VISION_TYPES = /^(vit|resnet)$/;

/** Fetches a JSON file, or undefined when it is absent (a 404, or an HTML page a single-page-app server sends). */
async function fetchJson(url: string): Promise<Record<string, unknown> | undefined> {
  const r = await fetch(url);
  if (!r.ok || /html/.test(r.headers.get('content-type') ?? '')) return undefined;
  return (await r.json()) as Record<string, unknown>;
}

/**
 * The format that reads `source`. Files: the first registered format whose `match` accepts them (the one
 * `loadPretrained` would use). A URL cannot be listed, and probing a web server for files it lacks logs
 * 404s (or, on single-page-app servers, returns the page as the file), so the format is chosen from the
 * file the URL names: `*.keras`, a `model.json` (its `format` field) or a Hugging Face `config.json` (its
 * `model_type`); `hf://org/name` is a Hugging Face folder.
 */
async function formatOf(source: PretrainedSource): Promise<string | undefined> {
  if (typeof source !== 'string') {
    const files = await openModelFiles(source);
    for (const f of listModelFormats()) if ((await f.match(files, {})) === true) return f.name;
    return undefined; // loadPretrained's error lists every format and why it did not match
  }
  if (/\.keras$/i.test(source)) return 'keras';
  if (/model\.json$/.test(source)) {
    const json = await fetchJson(source);
    return json?.['format'] === 'graph-model' ? 'tfjs-graph' : 'tfjs-layers';
  }
  const config = /config\.json$/.test(source) ? await fetchJson(source) : undefined;
  if (config) return VISION_TYPES.test(String(config['model_type'])) ? 'hf-vision' : 'hf-text';
  return undefined;
}

/** Input kind the demo can train on: images (rank 4) or token ids (int32 rank 2). */
function inputKind(inputs: ByomTensor[]): ByomInfo['task'] {
  const first = inputs[0];
  if (!first) return null;
  if (first.shape.length === 4) return 'image';
  if (first.shape.length === 2 && (first.dtype === 'int32' || /input_ids/.test(first.name))) return 'tokens';
  return null;
}

/** Loads the model from Files or a URL and describes it. */
export async function loadByom(source: File[] | string): Promise<LoadedModel> {
  const chosen = await formatOf(source);
  const model = (await loadPretrained(source, chosen ? { format: chosen } : {})) as tfl.LayersModel | GraphModel;
  const format = chosen ?? 'unknown';
  const graph = !('layers' in model);
  let inputs: ByomTensor[];
  let outputs: ByomTensor[];
  let targets: string[];
  let count: number;
  if (graph) {
    const g = model as GraphModel;
    inputs = g.inputs.map((t) => ({ name: t.name, shape: dims(t.shape), dtype: t.dtype }));
    outputs = g.outputs.map((t) => ({ name: t.name, shape: dims(t.shape), dtype: t.dtype }));
    if (outputs[0] && outputs[0].shape.length === 0) {
      // Converted graphs often leave output shapes out: run zeros through it once to see them.
      const x = inputs.map((t) =>
        tf.zeros(
          t.shape.map((d) => d ?? 1),
          t.dtype as tf.DataType,
        ),
      );
      const y = g.predict(x.length === 1 ? x[0]! : x);
      outputs = (Array.isArray(y) ? y : [y as tf.Tensor]).map((t, i) => ({
        ...outputs[i]!,
        shape: [null, ...t.shape.slice(1)],
      }));
      tf.dispose([...x, ...(Array.isArray(y) ? y : [y as tf.Tensor])]);
    }
    const view = new LoraGraphModel(g); // only reads the graph (no op renamed until an adapter is added)
    targets = view.targetableModules.map((t) => t.path);
    const topology = (g as unknown as { artifacts?: { modelTopology?: { node?: unknown[] } } }).artifacts;
    count = topology?.modelTopology?.node?.length ?? Object.keys(g.weights).length;
  } else {
    const m = model as tfl.LayersModel;
    inputs = m.inputs.map((t, i) => ({ name: m.inputNames[i] ?? t.name, shape: dims(t.shape), dtype: t.dtype }));
    outputs = m.outputs.map((t, i) => ({ name: m.outputNames[i] ?? t.name, shape: dims(t.shape), dtype: t.dtype }));
    targets = m.layers.filter((l) => findLayerKind(l.getClassName()) && l.weights.length > 0).map((l) => l.name);
    count = m.layers.length;
  }
  let tokenizer: HfTokenizer | undefined;
  const hasTokenizer = Array.isArray(source)
    ? source.some((f) => f.name === 'tokenizer.json')
    : /^https?:/.test(source) &&
      (await fetchJson(new URL('tokenizer.json', source.replace(/[^/]*\.json$/, '').replace(/\/?$/, '/')).href)) !==
        undefined;
  if (hasTokenizer && inputKind(inputs) === 'tokens')
    tokenizer = await loadTokenizer(typeof source === 'string' ? source.replace(/config\.json$/, '') : source);
  return {
    model,
    graph,
    tokenizer,
    info: {
      format,
      kind: graph ? 'GraphModel' : 'LayersModel',
      inputs,
      outputs,
      count,
      countLabel: graph ? 'nodes' : 'layers',
      targets,
      task: inputKind(inputs),
      tokenizer: tokenizer !== undefined,
    },
  };
}
