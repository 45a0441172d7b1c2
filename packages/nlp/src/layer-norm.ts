import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { ShapeMismatchError } from '@tfjs-lora/core';

type Shape = (number | null)[];

/** Constructor arguments of {@link LayerNorm}. */
export interface LayerNormArgs {
  /** Layer name. */
  name?: string;
  /** Added to the variance (default 1e-5, as PyTorch's nn.LayerNorm). */
  epsilon?: number;
}

/**
 * Layer normalisation over the last axis with a learned scale `gamma` and offset `beta` (PyTorch's
 * `nn.LayerNorm` weight and bias). Same values as tfjs-layers' `LayerNormalization`, whose gradient is slow
 * here: it tiles gamma and beta to the input's shape, and tfjs-core's Tile gradient slices and adds once per
 * repetition (2·batch·time kernel calls per LayerNorm, 73 s for one training step of a 4-block model at
 * batch 32 × 64 tokens on wasm). This layer broadcasts instead, so its gradient is a single reduction.
 */
export class LayerNorm extends tfl.layers.Layer {
  /** @nocollapse */
  static className = 'LayerNorm';
  /** Variance epsilon. */
  readonly epsilon: number;
  private gamma: tfl.LayerVariable | null = null;
  private beta: tfl.LayerVariable | null = null;

  constructor(args: LayerNormArgs = {}) {
    super({ name: args.name });
    this.epsilon = args.epsilon ?? 1e-5;
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = inputShape as Shape;
    const width = shape[shape.length - 1];
    if (width === null || width === undefined) {
      throw new ShapeMismatchError(`LayerNorm '${this.name}' needs a known last axis; found [${shape.join(', ')}].`, {
        layer: this.name,
      });
    }
    this.gamma = this.addWeight('gamma', [width], 'float32', tfl.initializers.ones());
    this.beta = this.addWeight('beta', [width], 'float32', tfl.initializers.zeros());
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      const { mean, variance } = tf.moments(x, -1, true);
      const normed = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, this.epsilon)));
      return tf.add(tf.mul(normed, this.gamma!.read()), this.beta!.read());
    });
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return inputShape as Shape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), epsilon: this.epsilon };
  }
}

tf.serialization.registerClass(LayerNorm);
