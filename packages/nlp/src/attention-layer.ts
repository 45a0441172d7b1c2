import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { LoraConfigError, ShapeMismatchError } from '@tfjs-lora/core';

type Shape = (number | null)[];

/** Constructor arguments of {@link ScaledDotProductAttention}. */
export interface ScaledDotProductAttentionArgs {
  /** Layer name. */
  name?: string;
  /** Number of heads; the model width must be divisible by it. */
  numHeads: number;
  /** When true, position i attends only to positions ≤ i (decoder self-attention). */
  causal?: boolean;
  /** When true the layer takes one fused [batch, time, 3·width] input (q | k | v); else three inputs. */
  fused?: boolean;
  /**
   * When true the last input is a padding mask [batch, time] (1 = token, 0 = padding, as Hugging Face's
   * `attention_mask`): keys at padding positions get no attention.
   */
  masked?: boolean;
}

/** Additive causal mask [t, t]: 0 on and below the diagonal, -1e9 above. */
export function causalMask(t: number): tf.Tensor2D {
  return tf.tidy(() => {
    const lower = tf.linalg.bandPart(tf.ones([t, t]), -1, 0);
    return tf.mul(tf.sub(1, lower), -1e9) as tf.Tensor2D;
  });
}

/** Additive bias [b, 1, 1, t] from a padding mask [b, t]: 0 where the mask is 1, -1e9 where it is 0. */
function paddingBias(mask: tf.Tensor, b: number, t: number): tf.Tensor {
  if (mask.rank !== 2 || mask.shape[0] !== b || mask.shape[1] !== t) {
    throw new ShapeMismatchError(
      `The attention mask must be [batch, time] = [${b}, ${t}], like the ids; found [${mask.shape.join(', ')}]. Pass the tokenizer's attention_mask.`,
    );
  }
  return tf.reshape(tf.mul(tf.sub(1, tf.cast(mask, 'float32')), -1e9), [b, 1, 1, t]);
}

/** [b, t, h·dh] → [b, h, t, dh]. */
function splitHeads(x: tf.Tensor, heads: number): tf.Tensor4D {
  const [b, t, d] = x.shape;
  return tf.transpose(tf.reshape(x, [b, t, heads, d / heads]), [0, 2, 1, 3]);
}

/**
 * The weightless core of multi-head attention: `softmax(q·kᵀ/√dh + mask)·v` per head, heads split from and
 * merged back into the last axis. Inputs are the already projected queries, keys and values (three
 * [batch, time, width] tensors, or one fused [batch, time, 3·width] tensor), so that the projections stay
 * ordinary Dense layers that LoRA can target (see {@link multiHeadAttention}). Any sequence length works.
 */
export class ScaledDotProductAttention extends tfl.layers.Layer {
  /** @nocollapse */
  static className = 'ScaledDotProductAttention';
  /** Number of heads. */
  readonly numHeads: number;
  /** Whether the causal mask applies. */
  readonly causal: boolean;
  /** Whether the input is one fused q|k|v tensor. */
  readonly fused: boolean;
  /** Whether the last input is a padding mask [batch, time]. */
  readonly masked: boolean;

  constructor(args: ScaledDotProductAttentionArgs) {
    super({ name: args.name });
    if (!Number.isInteger(args.numHeads) || args.numHeads < 1) {
      throw new LoraConfigError(
        `ScaledDotProductAttention needs numHeads ≥ 1 (an integer); found ${args.numHeads}. Pass the number of heads.`,
        { field: 'numHeads' },
      );
    }
    this.numHeads = args.numHeads;
    this.causal = args.causal ?? false;
    this.fused = args.fused ?? false;
    this.masked = args.masked ?? false;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const first = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    const width = first[2];
    return [first[0], first[1], this.fused && width !== null ? width / 3 : width];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const all = Array.isArray(inputs) ? inputs : [inputs];
      const list = this.masked ? all.slice(0, -1) : all;
      const [q, k, v] = this.fused ? tf.split(list[0]!, 3, 2) : list;
      this.checkShapes(q, k, v);
      const h = this.numHeads;
      const [b, t, d] = q.shape;
      const dh = d / h;
      let scores = tf.mul(tf.matMul(splitHeads(q, h), splitHeads(k, h), false, true), 1 / Math.sqrt(dh));
      if (this.causal) scores = tf.add(scores, causalMask(t));
      if (this.masked) scores = tf.add(scores, paddingBias(all[all.length - 1]!, b, t));
      const context = tf.matMul(tf.softmax(scores), splitHeads(v, h)); // [b, h, t, dh]
      return tf.reshape(tf.transpose(context, [0, 2, 1, 3]), [b, t, d]);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    const config = { ...super.getConfig(), numHeads: this.numHeads, causal: this.causal, fused: this.fused };
    return this.masked ? { ...config, masked: true } : config;
  }

  private checkShapes(
    q: tf.Tensor | undefined,
    k: tf.Tensor | undefined,
    v: tf.Tensor | undefined,
  ): asserts q is tf.Tensor {
    const found = [q, k, v].map((x) => (x ? `[${x.shape.join(', ')}]` : 'missing')).join(', ');
    if (
      !q ||
      !k ||
      !v ||
      q.rank !== 3 ||
      !tf.util.arraysEqual(q.shape, k.shape) ||
      !tf.util.arraysEqual(q.shape, v.shape)
    ) {
      throw new ShapeMismatchError(
        `Layer '${this.name}' expects queries, keys and values of one shape [batch, time, width]; found ${found}. ` +
          `Pass three projections of the same width (or one fused tensor with fused: true).`,
        { layer: this.name },
      );
    }
    if ((q.shape[2] as number) % this.numHeads !== 0) {
      throw new ShapeMismatchError(
        `Layer '${this.name}': width ${q.shape[2]} is not divisible by numHeads ${this.numHeads}. Choose a width that is a multiple of numHeads.`,
        { layer: this.name },
      );
    }
  }
}

tf.serialization.registerClass(ScaledDotProductAttention);
