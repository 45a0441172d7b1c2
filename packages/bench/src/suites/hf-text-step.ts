// The LoRA training step the Hugging Face text benchmarks time (hf-text, frozen-dense): nlp's hf-text models
// built from a config (random weights), random token batches, Adam, softmax cross-entropy.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { createTrainStep, type LoraModel } from '@tfjs-lora/core';

/** The two shapes of issue 16's benchmark. */
export type HfTextFamily = 'gpt2' | 'distilbert';

/** Vocabulary sizes of GPT-2 and DistilBERT-base. */
export const HF_VOCAB: Record<HfTextFamily, number> = { gpt2: 50257, distilbert: 30522 };

/**
 * config.json of GPT-2 small (LM head) or a DistilBERT-base classifier (2 labels) with `layers` layers, for
 * `buildHfTextModel`.
 */
export function hfTextConfig(family: HfTextFamily, layers: number): Record<string, unknown> {
  return family === 'gpt2'
    ? { model_type: 'gpt2', n_layer: layers, n_embd: 768, n_head: 12, vocab_size: HF_VOCAB.gpt2, n_positions: 1024 }
    : {
        architectures: ['DistilBertForSequenceClassification'],
        n_layers: layers,
        dim: 768,
        n_heads: 12,
        hidden_dim: 3072,
        vocab_size: HF_VOCAB.distilbert,
        max_position_embeddings: 512,
        num_labels: 2,
      };
}

/**
 * One training step of `lora` (over `model`) on a fixed random batch [batch, seq]: next-token targets for GPT-2,
 * alternating labels for the classifier; Adam(1e-4). `dispose` frees the batch and the optimizer.
 */
export function hfTextTrainStep(
  model: tfl.LayersModel,
  lora: LoraModel,
  family: HfTextFamily,
  seq: number,
  batch: number,
): { step: () => Promise<unknown>; dispose: () => void } {
  const ids = tf.randomUniformInt([batch, seq], 0, HF_VOCAB[family], 1);
  const mask = tf.onesLike(ids);
  const classes = model.outputs[0]!.shape.at(-1)!;
  const labels =
    family === 'gpt2'
      ? ids
      : tf.tensor1d(
          [...Array(batch).keys()].map((i) => i % 2),
          'int32',
        );
  const optimizer = tf.train.adam(1e-4);
  const step = createTrainStep(lora, {
    optimizer,
    loss: (y, logits) => tf.losses.softmaxCrossEntropy(tf.oneHot(tf.cast(y, 'int32'), classes), logits),
  });
  const x = model.inputNames.map((n) => (n === 'input_ids' ? ids : mask));
  return {
    step: () => step(x, labels),
    dispose: () => {
      optimizer.dispose();
      tf.dispose([ids, mask, labels]);
    },
  };
}
