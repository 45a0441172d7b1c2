import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { LoraConfigError } from '@tfjs-lora/core';

type Shape = (number | null)[];

/** Constructor arguments of {@link TokenPooling}. */
export interface TokenPoolingArgs {
  /** Layer name. */
  name?: string;
  /**
   * `'first'`: the first token's hidden state (BERT's and DistilBERT's [CLS]). `'last'`: the last token whose
   * id is not `padTokenId` (GPT2ForSequenceClassification; takes the ids as a second input), or the last
   * position when `padTokenId` is null.
   */
  mode: 'first' | 'last';
  /** The padding id for `'last'` (null: always the last position). */
  padTokenId?: number | null;
}

/**
 * Picks one token's hidden state per sequence: [batch, time, width] → [batch, width]. For `'last'` it
 * follows transformers' GPT2ForSequenceClassification: the rightmost position whose id is not the padding
 * id (position 0 when every id is padding). Differentiable (a one-hot weighted sum).
 */
export class TokenPooling extends tfl.layers.Layer {
  /** @nocollapse */
  static className = 'TokenPooling';
  /** Which token. */
  readonly mode: 'first' | 'last';
  /** The padding id of `'last'`. */
  readonly padTokenId: number | null;

  constructor(args: TokenPoolingArgs) {
    super({ name: args.name });
    if (args.mode !== 'first' && args.mode !== 'last')
      throw new LoraConfigError(`TokenPooling mode must be 'first' or 'last'; found ${JSON.stringify(args.mode)}.`, {
        field: 'mode',
      });
    this.mode = args.mode;
    this.padTokenId = args.padTokenId ?? null;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const first = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    return [first[0]!, first[2]!];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const list = Array.isArray(inputs) ? inputs : [inputs];
      const h = list[0]!;
      const [b, t, d] = h.shape as [number, number, number];
      if (this.mode === 'first') return tf.reshape(tf.slice(h, [0, 0, 0], [b, 1, d]), [b, d]);
      let index: tf.Tensor;
      if (this.padTokenId === null) {
        index = tf.fill([b], t - 1, 'int32');
      } else {
        const ids = list[1];
        if (!ids)
          throw new LoraConfigError(
            `TokenPooling '${this.name}' in 'last' mode with a padTokenId needs the ids input.`,
          );
        const notPad = tf.cast(tf.notEqual(tf.cast(ids, 'int32'), this.padTokenId), 'int32');
        index = tf.argMax(tf.mul(notPad, tf.range(0, t, 1, 'int32')), -1);
      }
      const oneHot = tf.cast(tf.oneHot(tf.cast(index, 'int32'), t), 'float32'); // [b, t]
      return tf.sum(tf.mul(h, tf.expandDims(oneHot, -1)), 1);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), mode: this.mode, padTokenId: this.padTokenId };
  }
}

tf.serialization.registerClass(TokenPooling);
