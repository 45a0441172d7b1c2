// Conv2D LoRA with hand-written gradients (tf.customGrad), PEFT's form: y = conv(x, W) + b +
// s·B(A(xLora)), A a convolution with the base's geometry and r output channels, B a 1×1 convolution.
// The frozen kernel gets no filter gradient; x gets conv2dBackpropInput through W and A; A gets
// Conv2DBackpropFilter of the LoRA input against s·dy·Bᵀ; B a matmul. Pointwise layers go through
// core's `loraLinear` (a 1×1 stride-1 convolution is a Dense layer over channels).
import * as tf from '@tensorflow/tfjs-core';
import { loraLinear, recordingGradients } from '@tfjs-lora/core/math';
import { isPointwise, type ConvGeometry } from './conv-geometry.js';

/** Arguments of {@link loraConv}. */
export interface LoraConvArgs {
  /** Input [n, h, w, in] (Conv2D) or [n, w, in] (Conv1D, pointwise only), channels last. */
  x: tf.Tensor;
  /** Frozen base kernel [...k, in, out]; it gets no gradient. */
  kernel: tf.Tensor;
  /** A [...k, in, r]. */
  loraA: tf.Tensor;
  /** B [...1, r, out]. */
  loraB: tf.Tensor;
  /** alpha / r (or alpha / √r). */
  scaling: number;
  /** The layer's kernel size, strides, padding and dilation. */
  geometry: ConvGeometry;
  /** Optional bias [out] (added outside the custom gradients: it gets a gradient exactly when it trains). */
  bias?: tf.Tensor;
  /** Input of the LoRA branch when it differs from x (dropout on that branch only); default x. */
  loraInput?: tf.Tensor;
}

/** Whether {@link loraConv} handles this geometry: any pointwise layer, or a 2-D one without dilation. */
export function loraConvSupports(g: ConvGeometry): boolean {
  return isPointwise(g) || (g.kernelSize.length === 2 && g.dilationRate.every((d) => d === 1));
}

const matrix = (t: tf.Tensor): tf.Tensor2D => tf.reshape(t, [t.shape[t.rank - 2], t.shape[t.rank - 1]]);
const strides2 = (g: ConvGeometry) => g.strides as [number, number];

function keepFor(save: tf.GradSaveFunc, ts: tf.Tensor[]): void {
  save(ts.filter((t) => !(t instanceof tf.Variable)));
}

function restore(saved: tf.Tensor[], wanted: tf.Tensor[]): tf.Tensor[] {
  let k = 0;
  return wanted.map((t) => (t instanceof tf.Variable ? t : saved[k++]));
}

/** dA of a convolution: the filter gradient (tfjs's Conv2DBackpropFilter kernel, as conv2d's own gradient uses). */
function filterGradient(x: tf.Tensor4D, dy: tf.Tensor4D, filterShape: number[], g: ConvGeometry): tf.Tensor4D {
  const attrs = { strides: strides2(g), pad: g.padding, dataFormat: 'NHWC', dimRoundingMode: undefined, filterShape };
  return tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}

/** The frozen base convolution: dx = conv2dBackpropInput(dy, W); no filter gradient (its own op, see core's loraLinear). */
function frozenConv(x: tf.Tensor4D, kernel: tf.Tensor4D, g: ConvGeometry): tf.Tensor4D {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    keepFor(args[1] as tf.GradSaveFunc, [kernel]);
    return {
      value: tf.conv2d(args[0] as tf.Tensor4D, kernel, strides2(g), g.padding),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [w] = restore(saved, [kernel]);
        return [tf.conv2dTranspose(dy as tf.Tensor4D, w as tf.Tensor4D, x.shape, strides2(g), g.padding)];
      },
    };
  });
  return op(x) as tf.Tensor4D;
}

/** The LoRA branch s·B(A(x)): dx and dA through the convolution A, dB as a matmul over positions. */
function loraConvBranch(
  x: tf.Tensor4D,
  loraA: tf.Tensor4D,
  loraB: tf.Tensor,
  scaling: number,
  g: ConvGeometry,
): tf.Tensor4D {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xi, a, b] = args as tf.Tensor4D[];
    const down = tf.conv2d(xi, a, strides2(g), g.padding); // [n, h', w', r]
    const r = down.shape[3];
    const downS = tf.reshape(tf.mul(down, scaling), [-1, r]) as tf.Tensor2D; // s·A(x) [m, r]
    keepFor(args[3] as tf.GradSaveFunc, [xi, downS, a, b]);
    const out = tf.matMul(downS, matrix(b));
    return {
      value: tf.reshape(out, [...down.shape.slice(0, 3), out.shape[1] as number]),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sx, sdown, sa, sb] = restore(saved, [xi, downS, a, b]);
        const dyFlat = tf.reshape(dy, [-1, dy.shape[3] as number]) as tf.Tensor2D;
        const gFlat = tf.mul(tf.matMul(dyFlat, matrix(sb), false, true), scaling); // s·dy·Bᵀ [m, r]
        const g4 = tf.reshape(gFlat, down.shape) as tf.Tensor4D;
        return [
          tf.conv2dTranspose(g4, sa as tf.Tensor4D, x.shape, strides2(g), g.padding),
          filterGradient(sx as tf.Tensor4D, g4, loraA.shape, g),
          tf.reshape(tf.matMul(sdown as tf.Tensor2D, dyFlat, true, false), loraB.shape),
        ];
      },
    };
  });
  return op(x, loraA, loraB) as tf.Tensor4D;
}

/**
 * PEFT's convolution LoRA, `conv(x, W) + bias + s·B(A(xLora))`, with hand-written gradients (dx, dA, dB;
 * never the frozen kernel's filter gradient). Pointwise layers use core's `loraLinear`; other layers
 * must be 2-D without dilation ({@link loraConvSupports}; tfjs has no dilated conv2d gradient).
 * Outside a gradient computation it is the plain forward. Works on every backend.
 */
export function loraConv(args: LoraConvArgs): tf.Tensor {
  const { x, kernel, loraA, loraB, scaling, geometry: g, bias } = args;
  if (isPointwise(g)) {
    return tf.tidy(() =>
      loraLinear({
        x,
        kernel: matrix(kernel),
        loraA: matrix(loraA),
        loraB: matrix(loraB),
        scaling,
        ...(bias ? { bias: bias as tf.Tensor1D } : {}),
        ...(args.loraInput ? { loraInput: args.loraInput } : {}),
      }),
    );
  }
  return tf.tidy(() => {
    const xl = (args.loraInput ?? x) as tf.Tensor4D;
    let y: tf.Tensor;
    if (recordingGradients()) {
      y = tf.add(
        frozenConv(x as tf.Tensor4D, kernel as tf.Tensor4D, g),
        loraConvBranch(xl, loraA as tf.Tensor4D, loraB, scaling, g),
      );
    } else {
      const down = tf.mul(tf.conv2d(xl, loraA as tf.Tensor4D, strides2(g), g.padding), scaling);
      const low = tf.matMul(tf.reshape(down, [-1, down.shape[3] as number]) as tf.Tensor2D, matrix(loraB));
      y = tf.add(
        tf.conv2d(x as tf.Tensor4D, kernel as tf.Tensor4D, strides2(g), g.padding),
        tf.reshape(low, [...down.shape.slice(0, 3), low.shape[1] as number]),
      );
    }
    return bias ? tf.add(y, bias) : y;
  });
}
