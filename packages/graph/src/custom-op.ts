// The op adapted nodes run as. Each adapted node's `op` is renamed to one op registered with
// tf.registerOp, which computes the node's frozen op as tfjs-converter would (fused bias and activation
// included) plus, for the LoraGraphModel running it, the low-rank update in PEFT's branch form:
//   MatMul:  act(x·W + bias + Σ s·(x·A)·B)
//   Conv2D:  act(conv(x, W) + bias + Σ s·conv1×1(conv(x, A), B))   (A: a kh×kw conv to r channels)
//   depthwise: act(depthwise(x, W + Σ s·ΔW) + bias)                  (ΔW as in factors.ts; with LoRA
//              dropout, the branch depthwise(dropout(x), s·ΔW) is added instead)
// or, where that is cheaper for a training step (small kernels: mergedIsCheaper) and there is no dropout,
// as one op with W + Σ s·ΔW, like depthwise.
// LoRA dropout (training only) applies to the branch's input, as in PEFT.
// W is a constant of the graph, so the backward pass never computes dW for MatMul and Conv2D: it costs
// what the low-rank branch costs. Nodes no adapter uses run the frozen op unchanged.
import * as tf from '@tensorflow/tfjs-core';
import { registerOp, type GraphModel } from '@tensorflow/tfjs-converter';
import { deltaWeight, matrixDims } from './factors.js';
import { executorNode, type ExecutorNode } from './graph-nodes.js';
import type { GraphTarget } from './targets.js';

/** The name adapted nodes' op is renamed to. */
export const LORA_GRAPH_OP = 'TfjsLoraGraphOp';
const ID_ATTR = '_tfjs_lora_node';

/** One low-rank update of a node: factors in tfjs layout and scaling. */
export interface NodeUpdate {
  loraA: tf.Tensor;
  loraB: tf.Tensor;
  scaling: number;
  /** LoRA dropout rate on the branch's input (0 outside training). */
  dropout: number;
}

/**
 * How an adapted node computes in a forward pass: 'branch' adds PEFT's branch to the frozen op; 'merged'
 * runs the op once with W + s·ΔW (its weight gradient then flows to A and B); 'auto' picks the cheaper per
 * node for a training step (see {@link mergedIsCheaper}). Outputs and gradients agree up to rounding.
 */
export type LoraForm = 'auto' | 'branch' | 'merged';

/** What the op asks the running LoraGraphModel: the updates of a node (none while disabled or merged). */
export interface UpdateSource {
  updatesFor(node: string): NodeUpdate[];
  /** How adapted nodes compute. */
  readonly form: LoraForm;
}

/**
 * Whether one op with W + s·ΔW costs less than the frozen op plus the branch, per output position of a
 * training step, for fan-in K, `out` outputs and total rank r: merged 3·K·out against 2·K·out + 3·r·(K + out)
 * (the rule `@tfjs-lora/vision` uses for Conv2D). True for small kernels, false for wide ones.
 */
export function mergedIsCheaper(fanIn: number, out: number, r: number): boolean {
  return fanIn * out < 3 * r * (fanIn + out);
}

interface Hook {
  node: ExecutorNode;
  target: GraphTarget;
  op: string;
  category: string;
  count: number;
  id: number;
}

const hooks = new Map<number, Hook>();
const byNode = new WeakMap<ExecutorNode, Hook>();
let nextId = 0;
let running: UpdateSource | null = null;

/** Runs `fn` with `source` answering for adapted nodes (LoraGraphModel.execute). */
export function withUpdates<T>(source: UpdateSource, fn: () => T): T {
  const prev = running;
  running = source;
  try {
    return fn();
  } finally {
    running = prev;
  }
}

/** Renames `target`'s node to the LoRA op (reference-counted: several adapters or models may hook it). */
export function hookNode(model: GraphModel, target: GraphTarget): void {
  const node = executorNode(model, target.node);
  const existing = byNode.get(node);
  if (existing) {
    existing.count += 1;
    return;
  }
  const hook: Hook = { node, target, op: node.op, category: node.category, count: 1, id: nextId++ };
  hooks.set(hook.id, hook);
  byNode.set(node, hook);
  node.rawAttrs = { ...(node.rawAttrs ?? {}), [ID_ATTR]: { i: String(hook.id) } };
  node.op = LORA_GRAPH_OP;
  node.category = 'custom';
}

/** Undoes one {@link hookNode}; the last one restores the node's op. */
export function unhookNode(model: GraphModel, target: GraphTarget): void {
  const node = executorNode(model, target.node);
  const hook = byNode.get(node);
  if (!hook || --hook.count > 0) return;
  node.op = hook.op;
  node.category = hook.category;
  const { [ID_ATTR]: _, ...rest } = node.rawAttrs ?? {};
  node.rawAttrs = rest;
  hooks.delete(hook.id);
  byNode.delete(node);
}

type Activation = 'linear' | 'relu' | 'relu6' | 'elu' | 'sigmoid' | 'leakyrelu' | 'prelu';

interface Params {
  strides: [number, number];
  pad: 'same' | 'valid' | number[][];
  dataFormat: 'NHWC' | 'NCHW';
  dilations: [number, number];
  transposeA: boolean;
  transposeB: boolean;
  bias?: tf.Tensor;
  prelu?: tf.Tensor;
  activation: Activation;
  leakyreluAlpha?: number;
}

/** The node's parameters as tfjs-converter's own executors read them (its parsed attrParams). */
function params(hook: Hook, args: tf.Tensor[]): Params {
  const a = (name: string): unknown => hook.node.attrParams[name]?.value;
  const [extra, act] = ((a('fusedOps') as string[] | undefined) ?? []).map((s) => s.toLowerCase());
  let [bias, prelu]: (tf.Tensor | undefined)[] = args;
  if (extra !== 'biasadd') [bias, prelu] = [undefined, bias];
  const s = (a('strides') as number[] | undefined) ?? [1, 1, 1, 1];
  const d = (a('dilations') as number[] | undefined) ?? [1, 1, 1, 1];
  let pad = a('pad') as Params['pad'] | 'explicit';
  if (pad === 'explicit') {
    const p = a('explicitPaddings') as number[];
    pad = [0, 1, 2, 3].map((i) => [p[2 * i]!, p[2 * i + 1]!]);
  }
  return {
    strides: [s[1]!, s[2]!],
    pad: pad ?? 'valid',
    dataFormat: String(a('dataFormat') ?? 'NHWC').toUpperCase() as Params['dataFormat'],
    dilations: [d[1]!, d[2]!],
    transposeA: a('transposeA') === true,
    transposeB: a('transposeB') === true,
    bias,
    prelu: act === 'prelu' ? prelu : undefined,
    activation: (act ?? 'linear') as Activation,
    leakyreluAlpha: a('leakyreluAlpha') as number | undefined,
  };
}

/** The frozen op with bias and `activation`, as tfjs-converter runs it. */
function frozen(hook: Hook, p: Params, x: tf.Tensor, w: tf.Tensor, activation: Activation): tf.Tensor {
  const epilogue = {
    bias: p.bias,
    activation,
    preluActivationWeights: activation === 'prelu' ? p.prelu : undefined,
    leakyreluAlpha: p.leakyreluAlpha,
  };
  const conv = {
    x: x as tf.Tensor4D,
    filter: w as tf.Tensor4D,
    strides: p.strides,
    pad: p.pad as 'same',
    dataFormat: p.dataFormat,
    dilations: p.dilations,
    ...epilogue,
  };
  if (hook.target.kind === 'conv2d') return tf.fused.conv2d(conv);
  if (hook.target.kind === 'depthwise') return tf.fused.depthwiseConv2d(conv);
  return tf.fused.matMul({ a: x, b: w, transposeA: p.transposeA, transposeB: p.transposeB, ...epilogue });
}

function activate(y: tf.Tensor, p: Params): tf.Tensor {
  switch (p.activation) {
    case 'relu':
      return tf.relu(y);
    case 'relu6':
      return tf.relu6(y);
    case 'elu':
      return tf.elu(y);
    case 'sigmoid':
      return tf.sigmoid(y);
    case 'leakyrelu':
      return tf.leakyRelu(y, p.leakyreluAlpha ?? 0.2);
    case 'prelu':
      return tf.prelu(y, p.prelu!);
    default:
      return y;
  }
}

/** scaling·B(A(x)) in the node's own geometry. */
function branch(hook: Hook, p: Params, input: tf.Tensor, u: NodeUpdate): tf.Tensor {
  const r = u.loraB.shape[0]!;
  const x = u.dropout > 0 ? tf.dropout(input, u.dropout) : input;
  if (hook.target.kind === 'depthwise')
    return tf.depthwiseConv2d(
      x as tf.Tensor4D,
      tf.mul(deltaWeight(hook.target, u.loraA, u.loraB), u.scaling) as tf.Tensor4D,
      p.strides,
      p.pad as 'same',
      p.dataFormat,
      p.dilations,
    );
  if (hook.target.kind === 'conv2d') {
    const down = tf.conv2d(
      x as tf.Tensor4D,
      u.loraA as tf.Tensor4D,
      p.strides,
      p.pad as 'same',
      p.dataFormat,
      p.dilations,
    );
    // B, a 1×1 convolution, as a matmul over channels (cheaper than Conv2D and its two backprop kernels).
    const nhwc = p.dataFormat === 'NHWC' ? down : tf.transpose(down, [0, 2, 3, 1]);
    const up = tf.reshape(
      tf.matMul(tf.reshape(nhwc, [-1, r]) as tf.Tensor2D, tf.mul(u.loraB, u.scaling) as tf.Tensor2D),
      [...nhwc.shape.slice(0, 3), u.loraB.shape[1]!],
    );
    return p.dataFormat === 'NHWC' ? up : tf.transpose(up, [0, 3, 1, 2]);
  }
  const xa = p.transposeA
    ? tf.transpose(
        x,
        [...x.shape.keys()].map((i, _, all) => (i < all.length - 2 ? i : 2 * all.length - 3 - i)),
      )
    : x;
  const inF = xa.shape[xa.rank - 1]!;
  const flat = tf.reshape(xa, [-1, inF]) as tf.Tensor2D;
  const up = tf.matMul(tf.mul(tf.matMul(flat, u.loraA as tf.Tensor2D), u.scaling), u.loraB as tf.Tensor2D);
  return tf.reshape(up, [...xa.shape.slice(0, -1), u.loraB.shape[1]!]);
}

/**
 * The frozen op without its activation, from unfused ops: tfjs's fused ops are custom gradients that
 * compute every input's gradient (the frozen W's too), while conv2d / matMul / depthwiseConv2d register
 * one gradient per input, which autodiff skips for the constant W.
 */
function unfused(hook: Hook, p: Params, x: tf.Tensor, w: tf.Tensor): tf.Tensor {
  let y: tf.Tensor;
  if (hook.target.kind === 'conv2d')
    y = tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, p.strides, p.pad as 'same', p.dataFormat, p.dilations);
  else if (hook.target.kind === 'depthwise')
    y = tf.depthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, p.strides, p.pad as 'same', p.dataFormat, p.dilations);
  else y = tf.matMul(x, w, p.transposeA, p.transposeB);
  if (!p.bias) return y;
  if (p.dataFormat === 'NCHW' && hook.target.kind !== 'matmul') return tf.add(y, tf.reshape(p.bias, [1, -1, 1, 1]));
  return tf.add(y, p.bias);
}

function useMerged(hook: Hook, form: LoraForm, updates: NodeUpdate[]): boolean {
  if (hook.target.kind === 'depthwise' || form === 'merged') return true;
  if (form === 'branch') return false;
  const [fanIn, out] = matrixDims(hook.target);
  return mergedIsCheaper(
    fanIn,
    out,
    updates.reduce((s, u) => s + u.loraB.shape[0]!, 0),
  );
}

/** The registered op: frozen op plus the running model's updates for this node. */
function runNode(hook: Hook, inputs: tf.Tensor[]): tf.Tensor {
  const [x, w, ...args] = inputs as [tf.Tensor, tf.Tensor, ...tf.Tensor[]];
  const p = params(hook, args);
  const updates = running?.updatesFor(hook.target.node) ?? [];
  if (updates.length === 0) return frozen(hook, p, x, w, p.activation);
  if (updates.every((u) => u.dropout === 0) && useMerged(hook, running!.form, updates)) {
    const merged = updates.reduce(
      (acc, u) => tf.add(acc, tf.mul(deltaWeight(hook.target, u.loraA, u.loraB), u.scaling)),
      w,
    );
    return frozen(hook, p, x, merged, p.activation);
  }
  return activate(
    updates.reduce((acc, u) => tf.add(acc, branch(hook, p, x, u)), unfused(hook, p, x, w)),
    p,
  );
}

registerOp(LORA_GRAPH_OP, (node) => {
  const hook = hooks.get(node.attrs[ID_ATTR] as number);
  if (!hook)
    throw new Error(
      `${LORA_GRAPH_OP}: no LoRA hook ${String(node.attrs[ID_ATTR])} (the LoraGraphModel was disposed while running).`,
    );
  return tf.tidy(() => runNode(hook, node.inputs));
});
