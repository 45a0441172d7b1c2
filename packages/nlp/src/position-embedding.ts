import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { LoraConfigError, ShapeMismatchError } from '@tfjs-lora/core';

type Shape = (number | null)[];

/** Constructor arguments of {@link PositionEmbedding}. */
export interface PositionEmbeddingArgs {
  /** Layer name. */
  name?: string;
  /** Longest sequence the table covers. */
  maxLength: number;
  /** Standard deviation of the normal initialisation (GPT-2 uses 0.02). */
  stddev?: number;
  /** Seed of the initialisation. */
  seed?: number;
}

/**
 * Learned absolute position embeddings (GPT-2's `wpe`): adds row `i` of a trainable [maxLength, width]
 * table (weight `embeddings`) to position `i` of a [batch, time, width] input, for any time ≤ maxLength.
 */
export class PositionEmbedding extends tfl.layers.Layer {
  /** @nocollapse */
  static className = 'PositionEmbedding';
  /** Longest sequence the table covers. */
  readonly maxLength: number;
  private readonly stddev: number;
  private readonly seed: number | undefined;
  private table: tfl.LayerVariable | null = null;

  constructor(args: PositionEmbeddingArgs) {
    super({ name: args.name });
    if (!Number.isInteger(args.maxLength) || args.maxLength < 1) {
      throw new LoraConfigError(
        `PositionEmbedding needs maxLength ≥ 1 (an integer); found ${args.maxLength}. Pass the longest sequence length.`,
        { field: 'maxLength' },
      );
    }
    this.maxLength = args.maxLength;
    this.stddev = args.stddev ?? 0.02;
    this.seed = args.seed;
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = inputShape as Shape;
    const width = shape[shape.length - 1];
    if (width === null || width === undefined) {
      throw new ShapeMismatchError(
        `PositionEmbedding '${this.name}' needs a known last axis (width); found [${shape.join(', ')}].`,
        { layer: this.name },
      );
    }
    const init = tfl.initializers.randomNormal({ mean: 0, stddev: this.stddev, seed: this.seed });
    this.table = this.addWeight('embeddings', [this.maxLength, width], 'float32', init);
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      const t = x.shape[1] as number;
      if (t > this.maxLength) {
        throw new ShapeMismatchError(
          `PositionEmbedding '${this.name}' covers ${this.maxLength} positions; found a sequence of ${t}. Crop the input to at most ${this.maxLength} tokens.`,
          { layer: this.name },
        );
      }
      const width = x.shape[2] as number;
      return tf.add(x, tf.slice(this.table!.read(), [0, 0], [t, width]));
    });
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return inputShape as Shape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    const config: tf.serialization.ConfigDict = {
      ...super.getConfig(),
      maxLength: this.maxLength,
      stddev: this.stddev,
    };
    if (this.seed !== undefined) config['seed'] = this.seed;
    return config;
  }
}

tf.serialization.registerClass(PositionEmbedding);
