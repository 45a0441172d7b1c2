// A small convolutional GraphModel with the fused nodes tfjs-converter writes for MobileNet-like nets,
// and an independent reference of its LoRA forward pass written with plain tfjs ops in PEFT's branch
// form (base op + scaling·B(A(x)) before the activation), not through ΔW.
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter';
import {
  constant,
  conv,
  graphArtifacts,
  matMul,
  node,
  placeholder,
  type WeightQuantization,
} from '@tfjs-lora/test-support/graph-json';

/** Weights of the network, by graph name. */
export type ConvWeights = Record<string, tf.Tensor>;

/** The module paths of its adaptable nodes. */
export const CONV_MODULES = ['conv1', 'dw', 'pw', 'head'] as const;

const r = (shape: number[], seed: number, scale = 0.5): tf.Tensor =>
  tf.randomUniform(shape, -scale, scale, 'float32', seed);

/** Random weights (seeded). */
export function convWeights(): ConvWeights {
  return {
    'conv1/w': r([3, 3, 3, 4], 1),
    'conv1/b': r([4], 2),
    'dw/w': r([3, 3, 4, 1], 3),
    'dw/b': r([4], 4),
    'pw/w': r([1, 1, 4, 5], 5),
    axes: tf.tensor1d([1, 2], 'int32'),
    'head/w': r([5, 2], 6),
    'head/b': r([2], 7),
    'head/alpha': tf.tensor1d([0.1, 0.3]),
  };
}

/** The GraphModel: conv1 (_FusedConv2D, stride 2, BiasAdd+LeakyRelu 0.2) → dw (FusedDepthwiseConv2dNative, BiasAdd+Relu6) → pw (Conv2D 1×1) → Mean → head (_FusedMatMul, BiasAdd+Prelu). */
export async function convGraph(
  weights: ConvWeights,
  options: { quantize?: string[]; as?: WeightQuantization } = {},
): Promise<GraphModel> {
  const artifacts = await graphArtifacts(
    [
      placeholder('x', [-1, 8, 8, 3]),
      ...Object.keys(weights).map((k) => constant(k, k === 'axes' ? 'DT_INT32' : 'DT_FLOAT')),
      conv('conv1', 'x', 'conv1/w', {
        strides: 2,
        bias: 'conv1/b',
        fused: { activation: 'LeakyRelu', leakyreluAlpha: 0.2 },
      }),
      // (tfjs-converter passes no leakyrelu_alpha to FusedDepthwiseConv2dNative, so LeakyRelu sits on conv1.)
      conv('dw', 'conv1', 'dw/w', { depthwise: true, bias: 'dw/b', fused: { activation: 'Relu6' } }),
      conv('pw', 'dw', 'pw/w', { padding: 'VALID' }),
      node('pool', 'Mean', ['pw', 'axes'], { T: { type: 'DT_FLOAT' }, keep_dims: { b: false } }),
      matMul('head', 'pool', 'head/w', 'head/b', { activation: 'Prelu', prelu: 'head/alpha' }),
      node('out', 'Identity', ['head']),
    ],
    weights,
    options,
  );
  return loadGraphModel(tf.io.fromMemory(artifacts));
}

/** One module's factors in tfjs layout (the package's documented layout) and its scaling. */
export interface RefFactors {
  loraA: tf.Tensor;
  loraB: tf.Tensor;
  scaling: number;
}

/**
 * The network's output with LoRA in branch form: conv1/pw as PEFT's Conv2d (A a kh×kw conv to r
 * channels, B a 1×1 conv), dw with r shared spatial filters mixed per channel by B, head as Linear.
 */
export function convReference(x: tf.Tensor4D, w: ConvWeights, f: Partial<Record<string, RefFactors>>): tf.Tensor {
  return tf.tidy(() => {
    const conv1 = (
      inp: tf.Tensor4D,
      kernel: tf.Tensor,
      stride: number,
      pad: 'same' | 'valid',
      name: string,
    ): tf.Tensor4D => {
      let y = tf.conv2d(inp, kernel as tf.Tensor4D, stride, pad);
      const lf = f[name];
      if (lf) {
        const [rk] = [lf.loraB.shape[0]!];
        const a = tf.conv2d(inp, lf.loraA as tf.Tensor4D, stride, pad);
        const b = tf.reshape(lf.loraB, [1, 1, rk, -1]) as tf.Tensor4D;
        y = tf.add(y, tf.mul(tf.conv2d(a, b, 1, 'valid'), lf.scaling));
      }
      return y;
    };
    let h = conv1(x, w['conv1/w']!, 2, 'same', 'conv1');
    h = tf.leakyRelu(tf.add(h, w['conv1/b']!), 0.2) as tf.Tensor4D;
    let d = tf.depthwiseConv2d(h, w['dw/w']! as tf.Tensor4D, 1, 'same');
    const lf = f['dw'];
    if (lf) {
      const [kh, kw, rk] = lf.loraA.shape as number[];
      const c = h.shape[3];
      // r basis filters applied to every channel: kernel [kh, kw, C, r], output channel c·r + j.
      const basis = tf.tile(tf.reshape(lf.loraA, [kh!, kw!, 1, rk!]), [1, 1, c, 1]) as tf.Tensor4D;
      const u = tf.reshape(tf.depthwiseConv2d(h, basis, 1, 'same'), [...h.shape.slice(0, 3), c, rk!]);
      const mixed = tf.sum(tf.mul(tf.expandDims(u, 5), tf.transpose(lf.loraB, [1, 0, 2])), 4); // [n,h,w,C,M]
      d = tf.add(d, tf.mul(tf.reshape(mixed, d.shape), lf.scaling));
    }
    d = tf.clipByValue(tf.add(d, w['dw/b']!), 0, 6) as tf.Tensor4D;
    const p = conv1(d, w['pw/w']!, 1, 'valid', 'pw');
    const pooled = tf.mean(p, [1, 2]) as tf.Tensor2D;
    let o = tf.matMul(pooled, w['head/w']! as tf.Tensor2D);
    const hf = f['head'];
    if (hf)
      o = tf.add(o, tf.mul(tf.matMul(tf.matMul(pooled, hf.loraA as tf.Tensor2D), hf.loraB as tf.Tensor2D), hf.scaling));
    return tf.prelu(tf.add(o, w['head/b']!), w['head/alpha']!);
  });
}
