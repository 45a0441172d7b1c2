// Which nodes of a GraphModel can take LoRA, and which ones a config selects. A node qualifies when it is
// one of the weight ops below and its weight input is a constant of the model (an entry of its weight
// map). Its module path (what targetModules match and what PEFT files key) is its node name with '/'
// replaced by '.', so 'block_1/expand/Conv2D' is the module 'block_1.expand.Conv2D'.
import type { GraphModel } from '@tensorflow/tfjs-converter';
import type { LoraConfig, ModuleSelector } from '@tfjs-lora/core';
import { selectTargets, type LayerInfo } from '@tfjs-lora/core/peft';
import { inputNodeName, type GraphDefNode, type GraphView } from './graph-nodes.js';
import { UnsupportedGraphError } from './errors.js';

/** How a node's weight takes a low-rank update (see factors.ts). */
export type WeightKind = 'matmul' | 'conv2d' | 'depthwise';

/** The ops this package adapts, by the kind of weight they carry. */
export const WEIGHT_OPS: Readonly<Record<string, WeightKind>> = {
  MatMul: 'matmul',
  _FusedMatMul: 'matmul',
  BatchMatMul: 'matmul',
  BatchMatMulV2: 'matmul',
  Conv2D: 'conv2d',
  _FusedConv2D: 'conv2d',
  DepthwiseConv2dNative: 'depthwise',
  FusedDepthwiseConv2dNative: 'depthwise',
};

/** A node that can take LoRA. */
export interface GraphTarget {
  /** Module path: the node name with '/' → '.' (PEFT's module path in saved adapters). */
  readonly path: string;
  /** The node's name in the graph. */
  readonly node: string;
  /** Its op (`_FusedConv2D`, ...). */
  readonly op: string;
  /** How its weight is factored. */
  readonly kind: WeightKind;
  /** The weight-map name of its frozen weight (the constant fed as its second input). */
  readonly weight: string;
  /** The names of its further inputs (a fused op's bias, then prelu alpha). */
  readonly extraInputs: readonly string[];
  /** The weight's shape. */
  readonly shape: readonly number[];
  /** MatMul with `transpose_b`: the weight is stored [out, in]. */
  readonly transposed: boolean;
  /** True when a model output is reached from this node without another weight op (PEFT's output layer). */
  readonly isOutput: boolean;
}

/** The module path of a node name. */
export const modulePath = (node: string): string => node.replace(/\//g, '.');

/** Every node of `model` that can take LoRA, in graph order. */
export function graphTargets(model: GraphModel, view: GraphView): GraphTarget[] {
  const weights = model.weights;
  const consumers = new Map<string, string[]>();
  for (const n of view.nodes.values())
    for (const ref of n.input ?? []) {
      const from = inputNodeName(ref);
      consumers.set(from, [...(consumers.get(from) ?? []), n.name]);
    }
  const outputs = new Set(model.outputNodes.map(inputNodeName));
  const reachesOutput = (start: string): boolean => {
    const seen = new Set<string>();
    const stack = [...(consumers.get(start) ?? [])];
    if (outputs.has(start)) return true;
    while (stack.length > 0) {
      const name = stack.pop()!;
      if (seen.has(name)) continue;
      seen.add(name);
      const op = view.nodes.get(name)?.op ?? '';
      if (op in WEIGHT_OPS) continue;
      if (outputs.has(name)) return true;
      stack.push(...(consumers.get(name) ?? []));
    }
    return false;
  };
  const out: GraphTarget[] = [];
  const paths = new Map<string, string>();
  for (const n of view.nodes.values()) {
    const kind = WEIGHT_OPS[n.op];
    if (kind === undefined || (n.input?.length ?? 0) < 2) continue;
    const weight = inputNodeName(n.input![1]!);
    const w = weights[weight]?.[0];
    if (w === undefined || w.dtype !== 'float32') continue;
    if (w.rank !== (kind === 'matmul' ? 2 : 4)) continue;
    const path = modulePath(n.name);
    const clash = paths.get(path);
    if (clash !== undefined)
      throw new UnsupportedGraphError(
        `Nodes '${clash}' and '${n.name}' have the same module path '${path}' ('/' read as '.'); expected distinct paths. Rename one node in the model.json.`,
        { nodes: [clash, n.name] },
      );
    paths.set(path, n.name);
    out.push({
      path,
      node: n.name,
      op: n.op,
      kind,
      weight,
      extraInputs: n
        .input!.slice(2)
        .filter((ref) => !ref.startsWith('^'))
        .map(inputNodeName),
      shape: w.shape,
      transposed: kind === 'matmul' && (flag(n, 'transpose_b') === true || flag(n, 'adj_y') === true),
      isOutput: reachesOutput(n.name),
    });
  }
  return out;
}

function flag(n: GraphDefNode, attr: string): boolean | undefined {
  return n.attr?.[attr]?.b;
}

/** The class name `'all-linear'` and error listings see: MatMuls are 'Dense', convolutions by kind. */
const CLASS_NAMES: Readonly<Record<WeightKind, string>> = {
  matmul: 'Dense',
  conv2d: 'Conv2D',
  depthwise: 'DepthwiseConv2D',
};

/** A selector written with node names ('a/b/Conv2D') read over module paths ('a.b.Conv2D'). */
function dotted(selector: ModuleSelector | null): ModuleSelector | null {
  if (selector === null) return null;
  if (typeof selector === 'string') return selector.replace(/\\?\//g, '\\.');
  if (selector instanceof RegExp) return new RegExp(selector.source.replace(/\\?\//g, '\\.'), selector.flags);
  return selector.map(modulePath);
}

/**
 * The targets `config` selects, with core's matching rules (names, dotted suffixes, full-match regex,
 * 'all-linear' = every MatMul that is not the output layer) over module paths; selectors may be written
 * with node names ('/' is read as '.').
 */
export function selectGraphTargets(config: LoraConfig, targets: readonly GraphTarget[]): GraphTarget[] {
  const infos: LayerInfo[] = targets.map((t) => ({
    path: t.path,
    className: CLASS_NAMES[t.kind],
    isOutput: t.isOutput,
  }));
  const chosen = selectTargets(
    { ...config, targetModules: dotted(config.targetModules), excludeModules: dotted(config.excludeModules) },
    infos,
  );
  const byPath = new Map(targets.map((t) => [t.path, t]));
  return chosen.map((l) => byPath.get(l.path)!);
}
