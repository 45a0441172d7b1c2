// The two weight-free or parameter-only pieces of a ViT that are not stock tfjs layers: the CLS token and
// position embeddings, and multi-head self-attention over already projected queries, keys and values
// (so that the projections stay ordinary Dense layers LoRA can target).
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { ShapeMismatchError } from '@tfjs-lora/core';

type Shape = (number | null)[];

/** Constructor arguments of {@link VitEmbeddings}. */
export interface VitEmbeddingsArgs {
  /** Layer name (the Hugging Face module path, `vit.embeddings`). */
  name?: string;
}

/**
 * ViT's embeddings after the patch projection: prepends the learned CLS token to the patch sequence
 * [batch, patches, hidden] and adds the learned position embeddings (`cls_token` [1, 1, hidden] and
 * `position_embeddings` [1, patches + 1, hidden], as in transformers' `ViTEmbeddings`).
 */
export class VitEmbeddings extends tfl.layers.Layer {
  /** @nocollapse */
  static className = 'TfjsLoraVitEmbeddings';
  private clsToken?: tfl.LayerVariable;
  private positionEmbeddings?: tfl.LayerVariable;

  constructor(args: VitEmbeddingsArgs = {}) {
    super(args);
  }

  override build(inputShape: Shape | Shape[]): void {
    const [, patches, hidden] = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    if (patches == null || hidden == null)
      throw new ShapeMismatchError(
        `Layer '${this.name}' needs a known [batch, patches, hidden] input; found [${String(inputShape)}]. Give the model a fixed image size.`,
        { layer: this.name },
      );
    const init = tfl.initializers.truncatedNormal({ stddev: 0.02 });
    this.clsToken = this.addWeight('cls_token', [1, 1, hidden], 'float32', init);
    this.positionEmbeddings = this.addWeight('position_embeddings', [1, patches + 1, hidden], 'float32', init);
    this.built = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const [b, n, h] = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    return [b ?? null, n == null ? null : n + 1, h ?? null];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      const cls = tf.tile(this.clsToken!.read(), [x.shape[0]!, 1, 1]);
      return tf.add(tf.concat([cls, x], 1), this.positionEmbeddings!.read());
    });
  }
}

/** Constructor arguments of {@link VitSelfAttention}. */
export interface VitSelfAttentionArgs {
  /** Layer name. */
  name?: string;
  /** Number of heads; the hidden size must be divisible by it. */
  numHeads: number;
}

/** [b, t, h·dh] → [b, h, t, dh]. */
function splitHeads(x: tf.Tensor, heads: number): tf.Tensor4D {
  const [b, t, d] = x.shape as [number, number, number];
  return tf.transpose(tf.reshape(x, [b, t, heads, d / heads]), [0, 2, 1, 3]);
}

/**
 * `softmax(q·kᵀ/√dh)·v` per head over three inputs (queries, keys, values, each [batch, tokens, hidden]),
 * heads split from and merged back into the last axis, as transformers' eager ViT attention (no mask).
 */
export class VitSelfAttention extends tfl.layers.Layer {
  /** @nocollapse */
  static className = 'TfjsLoraVitSelfAttention';
  /** Number of heads. */
  readonly numHeads: number;

  constructor(args: VitSelfAttentionArgs) {
    super({ name: args.name });
    this.numHeads = args.numHeads;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const [q, k, v] = Array.isArray(inputs) ? inputs : [inputs];
      if (!q || !k || !v || q.rank !== 3 || (q.shape[2] as number) % this.numHeads !== 0)
        throw new ShapeMismatchError(
          `Layer '${this.name}' expects queries, keys and values [batch, tokens, hidden] with hidden divisible by ${this.numHeads} heads; found ${[
            q,
            k,
            v,
          ]
            .map((x) => (x ? `[${x.shape.join(', ')}]` : 'missing'))
            .join(', ')}.`,
          { layer: this.name },
        );
      const h = this.numHeads;
      const [b, t, d] = q.shape as [number, number, number];
      const scores = tf.mul(tf.matMul(splitHeads(q, h), splitHeads(k, h), false, true), 1 / Math.sqrt(d / h));
      const context = tf.matMul(tf.softmax(scores), splitHeads(v, h));
      return tf.reshape(tf.transpose(context, [0, 2, 1, 3]), [b, t, d]);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), numHeads: this.numHeads };
  }
}

/** The first (CLS) token of [batch, tokens, hidden] as [batch, hidden] (transformers' `sequence_output[:, 0, :]`). */
export class FirstToken extends tfl.layers.Layer {
  /** @nocollapse */
  static className = 'TfjsLoraFirstToken';

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    return [s[0] ?? null, s[2] ?? null];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      return tf.reshape(tf.slice(x, [0, 0, 0], [-1, 1, -1]), [x.shape[0]!, x.shape[2]!]);
    });
  }
}

tf.serialization.registerClass(VitEmbeddings);
tf.serialization.registerClass(FirstToken);
tf.serialization.registerClass(VitSelfAttention);
