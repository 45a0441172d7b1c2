// Perplexity and sampling for the text task with asynchronous reads only. @tfjs-lora/nlp's `perplexity` and
// `generate` read each batch loss / each step's logits with dataSync, which stalls the GPU on webgpu and
// webgl (and throws in Node); these twins build on the same nlp pieces (evaluationOffsets, windowsAt,
// nextTokenLoss, contextLength, sampleToken) and read with `await t.data()`, so the numbers are the same.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { LoraModel } from '@tfjs-lora/core';
import { seededRandom } from '@tfjs-lora/core/random';
import { CharTokenizer, contextLength, evaluationOffsets, nextTokenLoss, sampleToken, windowsAt } from '@tfjs-lora/nlp';

/** Options of {@link perplexityAsync}: nlp's `perplexity` options. */
export interface PerplexityOptions {
  /** Window length in tokens. */
  length: number;
  /** At most this many evaluation windows (default 256). */
  maxWindows?: number;
  /** Windows per forward pass (default 32). */
  batchSize?: number;
}

/** nlp's `perplexity(model, ids, options)`: exp of the mean next-token loss, each batch loss read with await. */
export async function perplexityAsync(
  model: tfl.LayersModel,
  ids: Int32Array,
  options: PerplexityOptions,
): Promise<number> {
  const offsets = evaluationOffsets(ids.length, options.length, options.maxWindows ?? 256);
  const batchSize = options.batchSize ?? 32;
  let total = 0;
  for (let i = 0; i < offsets.length; i += batchSize) {
    const chunk = offsets.slice(i, i + batchSize);
    const { x, y } = windowsAt(ids, chunk, options.length);
    const loss = tf.tidy(() => nextTokenLoss(model.predictOnBatch(x) as tf.Tensor, y));
    tf.dispose([x, y]);
    try {
      total += (await loss.data())[0]! * chunk.length;
    } finally {
      loss.dispose();
    }
  }
  return Math.exp(total / offsets.length);
}

/** Options of {@link generateAsync}: nlp's `generate` options. */
export interface SampleOptions {
  /** Adapter to sample with, `null` for the base model (adapters disabled), omitted for the active ones. */
  adapter?: string | null;
  /** Tokens to sample (default 200). */
  maxNewTokens?: number;
  /** Softmax temperature; 0 = greedy (default 0.8). */
  temperature?: number;
  /** Sample among the k most likely tokens only (default 0 = all). */
  topK?: number;
  /** Seed of the sampler (default 1). */
  seed?: number;
}

async function continueText(m: tfl.LayersModel, prompt: string, options: SampleOptions): Promise<string> {
  const tokenizer = new CharTokenizer();
  const window = contextLength(m);
  const random = seededRandom(options.seed ?? 1);
  const ids = Array.from(tokenizer.encode(prompt));
  if (ids.length === 0) ids.push(1); // start from a newline, as nlp's generate does
  const out: number[] = [];
  for (let i = 0; i < (options.maxNewTokens ?? 200); i++) {
    const context = ids.slice(-window);
    const logits = tf.tidy(() => {
      const y = m.predictOnBatch(tf.tensor2d(context, [1, context.length], 'int32')) as tf.Tensor;
      return tf.squeeze(tf.slice(y, [0, context.length - 1, 0], [1, 1, -1]));
    });
    let values: Float32Array;
    try {
      values = (await logits.data()) as Float32Array;
    } finally {
      logits.dispose();
    }
    const next = sampleToken(values, options.temperature ?? 0.8, options.topK ?? 0, random);
    ids.push(next);
    out.push(next);
  }
  return tokenizer.decode(out);
}

/**
 * nlp's `generate(model, prompt, options)` with the CharTokenizer: continues `prompt` one token at a time,
 * each step's logits read with await. With a LoraModel, `adapter` picks the adapter (`null` = base) for
 * the call and restores the active ones afterwards.
 */
export async function generateAsync(
  model: LoraModel | tfl.LayersModel,
  prompt: string,
  options: SampleOptions = {},
): Promise<string> {
  if (!('setAdapter' in model)) return continueText(model, prompt, options);
  if (options.adapter === null) return model.withAdaptersDisabled(() => continueText(model.model, prompt, options));
  if (options.adapter === undefined) return continueText(model.model, prompt, options);
  const previous = model.activeAdapters;
  model.setAdapter(options.adapter);
  try {
    return await continueText(model.model, prompt, options);
  } finally {
    model.setAdapter(previous);
  }
}
