import * as tf from '@tensorflow/tfjs-core';
import { LoraConfigError, type Layer } from '@tfjs-lora/core';
import { dotLast } from '@tfjs-lora/core/math';

/** The geometry of a tfjs convolution layer, read from its config (channels-last only). */
export interface ConvGeometry {
  /** Spatial kernel size, one entry per spatial axis. */
  kernelSize: number[];
  /** Strides, one per spatial axis. */
  strides: number[];
  /** tfjs-layers padding. */
  padding: 'same' | 'valid';
  /** Dilation rates, one per spatial axis (1 where the layer has none). */
  dilationRate: number[];
}

function asArray(v: unknown, n: number, fallback: number): number[] {
  if (v === undefined || v === null) return new Array<number>(n).fill(fallback);
  const arr = Array.isArray(v) ? (v as number[]) : [v as number];
  return arr.length === n ? [...arr] : new Array<number>(n).fill(arr[0]);
}

/**
 * Reads kernel size, strides, padding and dilation from a convolution layer's config. Throws a
 * LoraConfigError for what the adapters cannot adapt exactly: `channelsFirst` data (LoRA's per-output
 * scaling and DoRA's magnitude broadcast over the last axis) and `causal` padding (which tfjs-layers
 * itself does not run).
 */
export function convGeometry(layer: Layer, spatialRank: number): ConvGeometry {
  const c = layer.getConfig();
  if (c['dataFormat'] === 'channelsFirst') {
    throw new LoraConfigError(
      `LoRA on ${layer.getClassName()} '${layer.name}' expects dataFormat 'channelsLast'; found 'channelsFirst'. ` +
        `Rebuild the model channels-last (tfjs runs convolutions channels-last anyway) or exclude the layer.`,
      { field: 'targetModules' },
    );
  }
  const padding = c['padding'];
  if (padding !== 'same' && padding !== 'valid') {
    throw new LoraConfigError(
      `LoRA on ${layer.getClassName()} '${layer.name}' supports padding 'same' or 'valid'; found '${String(padding)}' ` +
        `(tfjs-layers does not run 'causal' convolutions either). Use 'valid' with explicit ZeroPadding, or exclude the layer.`,
      { field: 'targetModules' },
    );
  }
  return {
    kernelSize: asArray(c['kernelSize'], spatialRank, 1),
    strides: asArray(c['strides'], spatialRank, 1),
    padding,
    dilationRate: asArray(c['dilationRate'], spatialRank, 1),
  };
}

/** True when a convolution is pointwise: 1×1 kernel, stride 1 (so it is a matMul over channels). */
export function isPointwise(g: ConvGeometry): boolean {
  return g.kernelSize.every((k) => k === 1) && g.strides.every((s) => s === 1);
}

/**
 * A channels-last convolution with the geometry `g` and a kernel [...kernelSize, in, out], plus an
 * optional bias: conv1d, conv2d, or a matMul over channels when the convolution is pointwise. Not
 * tfjs's fused ops: their custom gradients compute every input's gradient, including the frozen
 * kernel's (a full filter gradient per step) and the network input's.
 */
export function convolve(x: tf.Tensor, kernel: tf.Tensor, g: ConvGeometry, bias?: tf.Tensor | null): tf.Tensor {
  if (isPointwise(g)) {
    const [inC, outC] = kernel.shape.slice(-2);
    return addBias(dotLast(x, tf.reshape(kernel, [inC, outC]) as tf.Tensor2D), bias);
  }
  if (g.kernelSize.length === 1) {
    return addBias(
      tf.conv1d(x as tf.Tensor3D, kernel as tf.Tensor3D, g.strides[0], g.padding, 'NWC', g.dilationRate[0]),
      bias,
    );
  }
  const y = tf.conv2d(
    x as tf.Tensor4D,
    kernel as tf.Tensor4D,
    g.strides as [number, number],
    g.padding,
    'NHWC',
    g.dilationRate as [number, number],
  );
  return addBias(y, bias);
}

/** Adds a bias over the last axis when there is one. */
export function addBias(y: tf.Tensor, bias: tf.Tensor | null | undefined): tf.Tensor {
  return bias ? tf.add(y, bias) : y;
}
