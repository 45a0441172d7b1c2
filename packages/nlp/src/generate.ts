import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { LoraConfigError, type LoraModel } from '@tfjs-lora/core';
import { requireSyncRead, withCleanup } from '@tfjs-lora/core/math';
import { CharTokenizer } from './char-tokenizer.js';
import type { HfTokenizer } from './hf/tokenizer.js';
import { lmInputs } from './lm-inputs.js';
import { PositionEmbedding } from './position-embedding.js';
import { seededRandom } from './text-windows.js';

/** Options of {@link generate}. */
export interface GenerateOptions {
  /**
   * With a LoraModel: the adapter to sample with (`setAdapter` for the call, restored afterwards), `null` for
   * the base model (adapters disabled), or omitted for the adapters active now.
   */
  adapter?: string | null;
  /** Tokens to sample (default 200). */
  maxNewTokens?: number;
  /** Softmax temperature; 0 = greedy (default 0.8). */
  temperature?: number;
  /** Sample among the k most likely tokens only (default 0 = all). */
  topK?: number;
  /** Seed of the sampler (default 1), so samples with and without an adapter are comparable. */
  seed?: number;
  /**
   * Tokenizer (default {@link CharTokenizer}); a Hugging Face model's {@link HfTokenizer} (`loadTokenizer`)
   * with a causal LM of the 'hf-text' format (GPT2LMHeadModel).
   */
  tokenizer?: CharTokenizer | HfTokenizer;
}

function isLoraModel(m: LoraModel | tfl.LayersModel): m is LoraModel {
  return typeof (m as LoraModel).setAdapter === 'function' && 'model' in m;
}

/** The longest context a model takes: its {@link PositionEmbedding}'s maxLength (Infinity when it has none). */
export function contextLength(model: tfl.LayersModel): number {
  const pos = model.layers.find((l) => l instanceof PositionEmbedding) as PositionEmbedding | undefined;
  return pos?.maxLength ?? Infinity;
}

/** Draws one token from logits (JS float64 softmax with temperature and top-k). */
export function sampleToken(logits: Float32Array, temperature: number, topK: number, random: () => number): number {
  if (temperature <= 0) return logits.indexOf(Math.max(...logits));
  let order = Array.from(logits.keys());
  if (topK > 0 && topK < logits.length) order = order.sort((a, b) => logits[b]! - logits[a]!).slice(0, topK);
  const max = Math.max(...order.map((i) => logits[i]!));
  const weights = order.map((i) => Math.exp((logits[i]! - max) / temperature));
  let u = random() * weights.reduce((a, b) => a + b, 0);
  for (let j = 0; j < order.length; j++) {
    u -= weights[j]!;
    if (u <= 0) return order[j]!;
  }
  return order[order.length - 1]!;
}

/** The prompt's ids: a char LM starts from a newline when the prompt is empty; other tokenizers need text. */
function promptIds(tokenizer: CharTokenizer | HfTokenizer, prompt: string): number[] {
  const encoded = tokenizer.encode(prompt);
  const ids = encoded instanceof Int32Array ? Array.from(encoded) : [...encoded.ids];
  if (ids.length > 0) return ids;
  if (tokenizer instanceof CharTokenizer) return [1];
  throw new LoraConfigError(`generate: the prompt encodes to no token; expected some text to continue.`, {
    field: 'prompt',
  });
}

/** The logits of the next token after `context` (a [V] tensor; the caller disposes it). */
function nextLogits(m: tfl.LayersModel, context: number[]): tf.Tensor {
  return tf.tidy(() => {
    const y = m.predictOnBatch(lmInputs(m, tf.tensor2d(context, [1, context.length], 'int32'))) as tf.Tensor;
    return tf.squeeze(tf.slice(y, [0, context.length - 1, 0], [1, 1, -1]));
  });
}

/**
 * Runs `run` on the model `options.adapter` selects: a plain LayersModel as is; with a LoraModel, the
 * adapter named (`setAdapter` for the call, restored afterwards, also when `run` rejects), `null` for the
 * base (adapters disabled), or the adapters active now.
 */
function withChosenAdapter<R>(
  model: LoraModel | tfl.LayersModel,
  options: GenerateOptions,
  run: (m: tfl.LayersModel) => R,
): R {
  if (!isLoraModel(model)) {
    if (options.adapter !== undefined) {
      throw new LoraConfigError(
        `generate: 'adapter' needs a LoraModel (from applyLora); found a plain LayersModel. Pass the LoraModel, or omit 'adapter'.`,
        { field: 'adapter' },
      );
    }
    return run(model);
  }
  if (options.adapter === null) return model.withAdaptersDisabled(() => run(model.model));
  if (options.adapter === undefined) return run(model.model);
  const previous = model.activeAdapters;
  model.setAdapter(options.adapter);
  return withCleanup(
    () => run(model.model),
    () => model.setAdapter(previous),
  );
}

/** A tensor's values read synchronously, the tensor disposed. */
function takeSync(t: tf.Tensor): Float32Array {
  try {
    return t.dataSync() as Float32Array;
  } finally {
    t.dispose();
  }
}

/** A tensor's values read with `await data()`, the tensor disposed once read. */
async function take(t: tf.Tensor): Promise<Float32Array> {
  try {
    return (await t.data()) as Float32Array;
  } finally {
    t.dispose();
  }
}

/**
 * The sampling loop on the chosen model: yields each step's next-token logits ([V], the caller reads and
 * disposes it) and takes back their values, so the sync and async forms share one loop.
 */
function* sampling(
  m: tfl.LayersModel,
  prompt: string,
  options: GenerateOptions,
  tokenizer: CharTokenizer | HfTokenizer,
): Generator<tf.Tensor, string, Float32Array> {
  const window = contextLength(m);
  const random = seededRandom(options.seed ?? 1);
  const ids = promptIds(tokenizer, prompt);
  const out: number[] = [];
  for (let i = 0; i < (options.maxNewTokens ?? 200); i++) {
    const values = yield nextLogits(m, ids.slice(-window));
    const next = sampleToken(values, options.temperature ?? 0.8, options.topK ?? 0, random);
    ids.push(next);
    out.push(next);
  }
  return tokenizer.decode(out);
}

/**
 * Continues `prompt` with a next-token model (ids → logits, e.g. {@link transformerLM}, or a Hugging Face
 * causal LM of the 'hf-text' format with its {@link HfTokenizer}), one token at a time on the last
 * `contextLength` tokens, and returns the generated text (without the prompt). With a LoraModel, `adapter`
 * picks the adapter (or `null` = base), so one model shows samples with the adapter on and off. Reads each
 * step's logits synchronously, so cpu, wasm and tensorflow backends only: on webgpu/webgl it throws a
 * LoraError naming {@link generateAsync}, which gives the same text on every backend.
 */
export function generate(model: LoraModel | tfl.LayersModel, prompt: string, options: GenerateOptions = {}): string {
  requireSyncRead('generate', '`await generateAsync(model, prompt, options)`');
  const tokenizer = options.tokenizer ?? new CharTokenizer();
  return withChosenAdapter(model, options, (m) => {
    const steps = sampling(m, prompt, options, tokenizer);
    let step = steps.next();
    while (!step.done) step = steps.next(takeSync(step.value));
    return step.value;
  });
}

/**
 * {@link generate} on every backend: each step's logits are read with `await data()` (no synchronous
 * read, so it runs on WebGPU in Node too). Same text as `generate` for the same options and seed. With a
 * LoraModel and `adapter` set, the adapter choice holds until the promise settles: do not change the
 * model's adapters meanwhile.
 */
export async function generateAsync(
  model: LoraModel | tfl.LayersModel,
  prompt: string,
  options: GenerateOptions = {},
): Promise<string> {
  const tokenizer = options.tokenizer ?? new CharTokenizer();
  return withChosenAdapter(model, options, async (m) => {
    const steps = sampling(m, prompt, options, tokenizer);
    let step = steps.next();
    while (!step.done) step = steps.next(await take(step.value));
    return step.value;
  });
}
