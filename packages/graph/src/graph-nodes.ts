// What this package reads of a loaded tf.GraphModel: its GraphDef nodes (from the artifacts it was loaded
// from) and its weight map. GraphModel keeps the artifacts in a private field; this is the one place that
// reaches it, with a clear error if a tfjs version stops keeping them.
import type * as tf from '@tensorflow/tfjs-core';
import type { GraphModel } from '@tensorflow/tfjs-converter';
import { UnsupportedGraphError } from './errors.js';

/** One node of the GraphDef as tfjs-converter writes it to model.json. */
export interface GraphDefNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, { b?: boolean; s?: string; i?: string | number; f?: number; list?: { s?: string[] } }>;
}

/** The parts of a GraphModel this package uses. */
export interface GraphView {
  /** The GraphDef nodes, by name, in file order. */
  readonly nodes: ReadonlyMap<string, GraphDefNode>;
  /** The artifacts the model was loaded from (topology, weight specs and data). */
  readonly artifacts: tf.io.ModelArtifacts;
}

/** The node name of an input reference (`'^ctrl'` → `'ctrl'`, `'x:1'` → `'x'`). */
export function inputNodeName(ref: string): string {
  const bare = ref.startsWith('^') ? ref.slice(1) : ref;
  const colon = bare.lastIndexOf(':');
  return colon > 0 && /^\d+$/.test(bare.slice(colon + 1)) ? bare.slice(0, colon) : bare;
}

/** True when `model` looks like a loaded tf.GraphModel (duck-typed: several copies of tfjs may coexist). */
export function isGraphModel(model: unknown): model is GraphModel {
  const m = model as Partial<GraphModel> | null;
  return (
    typeof m === 'object' &&
    m !== null &&
    typeof m.execute === 'function' &&
    typeof m.executeAsync === 'function' &&
    Array.isArray((m as { inputNodes?: unknown }).inputNodes) &&
    !Array.isArray((m as { layers?: unknown }).layers)
  );
}

/** The model's GraphDef and artifacts; throws when the model was not loaded from model.json artifacts. */
export function graphView(model: GraphModel): GraphView {
  const artifacts = (model as unknown as { artifacts?: tf.io.ModelArtifacts }).artifacts;
  const topology = artifacts?.modelTopology as { node?: GraphDefNode[] } | undefined;
  if (!artifacts || !Array.isArray(topology?.node)) {
    throw new UnsupportedGraphError(
      'Expected a tf.GraphModel loaded from a graph-model model.json (tf.loadGraphModel or loadPretrained); ' +
        'found one without its GraphDef (a tfjs version that drops GraphModel.artifacts, or a model not loaded yet). ' +
        'Load it with tf.loadGraphModel and pass it before anything else touches it.',
    );
  }
  const nodes = new Map<string, GraphDefNode>();
  for (const n of topology.node) nodes.set(n.name, n);
  return { nodes, artifacts };
}

/** tfjs-converter's ops that make `execute` refuse a graph (control flow, dynamic shapes, hash tables). */
const ASYNC_OPS = new Set([
  'Switch',
  'Merge',
  'Enter',
  'Exit',
  'NextIteration',
  'StatelessIf',
  'StatelessWhile',
  'If',
  'While',
  'NonMaxSuppressionV2',
  'NonMaxSuppressionV3',
  'NonMaxSuppressionV4',
  'NonMaxSuppressionV5',
  'Where',
  'HashTable',
  'HashTableV2',
  'LookupTableImport',
  'LookupTableImportV2',
  'LookupTableFind',
  'LookupTableFindV2',
  'LookupTableSize',
  'LookupTableSizeV2',
]);

/**
 * Refuses a graph that needs `executeAsync` (control flow, non-max suppression, `Where`, hash tables):
 * LoRA training runs the graph with `execute` inside a gradient tape, which async execution cannot do.
 */
export function refuseAsyncGraph(view: GraphView): void {
  const found = [...view.nodes.values()].filter((n) => ASYNC_OPS.has(n.op));
  const fns = (view.artifacts.modelTopology as { library?: { function?: unknown[] } }).library?.function ?? [];
  if (found.length === 0 && fns.length === 0) return;
  const listed = found.slice(0, 10).map((n) => `${n.name} (${n.op})`);
  if (found.length > 10) listed.push(`… and ${found.length - 10} more`);
  if (fns.length > 0) listed.push(`${fns.length} graph function(s) (control flow)`);
  throw new UnsupportedGraphError(
    `Expected a GraphModel that runs with model.execute(); found nodes that need model.executeAsync(): ${listed.join(', ')}. ` +
      'LoRA trains through a synchronous gradient tape, so such graphs cannot be adapted. Export the part of the ' +
      'model without control flow or post-processing (e.g. the backbone up to the logits, with non-max suppression left out) and adapt that.',
    { nodes: found.map((n) => n.name) },
  );
}

/**
 * Replaces the model's weight map (GraphModel keeps it on a private executor; its setter also records
 * the tensors as weights, so the executor never disposes them as intermediates).
 */
export function setWeightMap(model: GraphModel, map: Record<string, tf.Tensor[]>): void {
  const executor = (model as unknown as { executor?: { weightMap: Record<string, tf.Tensor[]> } }).executor;
  if (!executor)
    throw new UnsupportedGraphError(
      'Expected a tf.GraphModel with an executor (tfjs-converter 4.x); found none, so weights cannot be merged in place. Use mergeAndUnload() instead.',
    );
  executor.weightMap = map;
}

/** A node of the GraphModel's executor graph (tfjs-converter's internal `Node`): what the LoRA op changes. */
export interface ExecutorNode {
  name: string;
  op: string;
  category: string;
  rawAttrs?: Record<string, unknown>;
  attrParams: Record<string, { value?: unknown } | undefined>;
}

/** The executor's node called `name`. */
export function executorNode(model: GraphModel, name: string): ExecutorNode {
  const nodes = (model as unknown as { executor?: { graph?: { nodes?: Record<string, ExecutorNode> } } }).executor
    ?.graph?.nodes;
  const node = nodes?.[name];
  if (!node)
    throw new UnsupportedGraphError(
      `Expected node '${name}' in the GraphModel's executor graph (tfjs-converter 4.x); found ${nodes ? 'no such node' : 'no executor graph'}. Load the model with tf.loadGraphModel.`,
      { nodes: [name] },
    );
  return node;
}
