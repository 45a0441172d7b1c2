// Small graph-model model.json artifacts built in memory, for tests and benchmarks (`@tfjs-lora/test-support/graph-json`): the nodes tfjs-converter writes for
// Keras Dense and convolution layers (fused epilogues included), with weights given as tensors.
import * as tf from '@tensorflow/tfjs-core';

type Attr = Record<string, unknown>;
/** A GraphDef node as model.json stores it. */
export interface NodeDef {
  name: string;
  op: string;
  input?: string[];
  attr?: Attr;
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');
const F = { type: 'DT_FLOAT' };
const ints = (xs: number[]): Attr => ({ list: { i: xs.map(String) } });
const strs = (xs: string[]): Attr => ({ list: { s: xs.map(b64) } });

/** A float32 input node. */
export function placeholder(name: string, shape: number[]): NodeDef {
  return {
    name,
    op: 'Placeholder',
    attr: { dtype: F, shape: { shape: { dim: shape.map((s) => ({ size: String(s) })) } } },
  };
}
/** A weight (its tensor goes in the weight map under the same name). */
export function constant(name: string, dtype: 'DT_FLOAT' | 'DT_INT32' = 'DT_FLOAT'): NodeDef {
  return { name, op: 'Const', attr: { dtype: { type: dtype }, value: { tensor: { dtype } } } };
}
/** An epilogue: BiasAdd then an activation ('Relu', 'Relu6', 'LeakyRelu', 'Prelu', 'Elu', 'Sigmoid') or none. */
export interface Fused {
  activation?: string;
  prelu?: string;
  leakyreluAlpha?: number;
}
function fusedAttrs(f: Fused, extra: number): Attr {
  const ops = ['BiasAdd', ...(f.activation ? [f.activation] : [])];
  return {
    fused_ops: strs(ops),
    num_args: { i: String(1 + extra) },
    epsilon: { f: 0 },
    ...(f.leakyreluAlpha !== undefined ? { leakyrelu_alpha: { f: f.leakyreluAlpha } } : {}),
  };
}
/** x·W (+ bias and activation when `fused`). */
export function matMul(name: string, x: string, w: string, bias?: string, f: Fused = {}, transposeB = false): NodeDef {
  const base = { T: F, transpose_a: { b: false }, transpose_b: { b: transposeB } };
  if (bias === undefined) return { name, op: 'MatMul', input: [x, w], attr: base };
  const extra = f.prelu ? [f.prelu] : [];
  return { name, op: '_FusedMatMul', input: [x, w, bias, ...extra], attr: { ...base, ...fusedAttrs(f, extra.length) } };
}
/** A 2-D (or depthwise) convolution, NHWC, with optional fused epilogue; a number as `padding` pads that much on every side (EXPLICIT, PyTorch's `padding=p`). */
export function conv(
  name: string,
  x: string,
  w: string,
  options: {
    depthwise?: boolean;
    strides?: number;
    padding?: 'SAME' | 'VALID' | number;
    bias?: string;
    fused?: Fused;
  } = {},
): NodeDef {
  const s = options.strides ?? 1;
  const attr: Attr = {
    T: F,
    strides: ints([1, s, s, 1]),
    ...(typeof options.padding === 'number'
      ? {
          padding: { s: b64('EXPLICIT') },
          explicit_paddings: ints([0, 0, options.padding, options.padding, options.padding, options.padding, 0, 0]),
        }
      : { padding: { s: b64(options.padding ?? 'SAME') } }),
    data_format: { s: b64('NHWC') },
    dilations: ints([1, 1, 1, 1]),
  };
  const plain = options.depthwise ? 'DepthwiseConv2dNative' : 'Conv2D';
  if (options.bias === undefined) return { name, op: plain, input: [x, w], attr };
  const f = options.fused ?? {};
  const extra = f.prelu ? [f.prelu] : [];
  const op = options.depthwise ? 'FusedDepthwiseConv2dNative' : '_FusedConv2D';
  return { name, op, input: [x, w, options.bias, ...extra], attr: { ...attr, ...fusedAttrs(f, extra.length) } };
}
/** Any other node. */
export function node(name: string, op: string, input: string[], attr: Attr = { T: F }): NodeDef {
  return { name, op, input, attr };
}

/** How `graphArtifacts` stores the weights named in `quantize` (tensorflowjs_converter's options). */
export type WeightQuantization = 'uint8' | 'uint16' | 'float16';

/** float32 → IEEE half bits (round to nearest; no subnormals: test weights are well inside the range). */
function halfBits(x: number): number {
  const f = new Float32Array([x]);
  const b = new Uint32Array(f.buffer)[0]!;
  const sign = (b >>> 16) & 0x8000;
  const exp = ((b >>> 23) & 0xff) - 127 + 15;
  if (exp <= 0) return sign;
  if (exp >= 31) return sign | 0x7c00;
  const mant = b & 0x7fffff;
  const rounded = (exp << 10) + (mant >>> 13) + ((mant >>> 12) & 1);
  return sign | rounded;
}

/** Graph-model artifacts from nodes and weights (float32, or quantised as tensorflowjs_converter does when asked). */
export async function graphArtifacts(
  nodes: NodeDef[],
  weights: Record<string, tf.Tensor>,
  options: { quantize?: readonly string[]; as?: WeightQuantization } = {},
): Promise<tf.io.ModelArtifacts> {
  const plain: tf.NamedTensorMap = {};
  for (const [k, v] of Object.entries(weights)) if (!options.quantize?.includes(k)) plain[k] = v;
  const enc = await tf.io.encodeWeights(plain);
  const specs = [...enc.specs];
  const parts = [new Uint8Array(enc.data as ArrayBuffer)];
  const as = options.as ?? 'uint8';
  for (const k of options.quantize ?? []) {
    const v = Float32Array.from(await weights[k]!.data());
    const shape = weights[k]!.shape;
    if (as === 'float16') {
      parts.push(new Uint8Array(Uint16Array.from(v, halfBits).buffer));
      specs.push({ name: k, shape, dtype: 'float32', quantization: { dtype: 'float16' } });
      continue;
    }
    const levels = as === 'uint8' ? 255 : 65535;
    const min = Math.min(...v);
    const scale = (Math.max(...v) - min) / levels || 1;
    const q = v.map((x) => Math.round((x - min) / scale));
    parts.push(new Uint8Array((as === 'uint8' ? Uint8Array.from(q) : Uint16Array.from(q)).buffer));
    specs.push({ name: k, shape, dtype: 'float32', quantization: { dtype: as, min, scale } });
  }
  const data = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  parts.reduce((at, p) => (data.set(p, at), at + p.length), 0);
  return {
    format: 'graph-model',
    generatedBy: 'tfjs-lora test-support',
    convertedBy: 'hand',
    modelTopology: { node: nodes, versions: { producer: 1 } },
    weightSpecs: specs,
    weightData: data.buffer,
  };
}

/** A k×k max pool with stride k (VALID), NHWC. */
export function maxPool(name: string, x: string, k: number): NodeDef {
  return {
    name,
    op: 'MaxPool',
    input: [x],
    attr: {
      T: F,
      ksize: ints([1, k, k, 1]),
      strides: ints([1, k, k, 1]),
      padding: { s: b64('VALID') },
      data_format: { s: b64('NHWC') },
    },
  };
}
