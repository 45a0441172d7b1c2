// Hugging Face tokenizers (tokenizer.json) through @huggingface/tokenizers, with batches as the int32 tensors
// the 'hf-text' models take.
import * as tf from '@tensorflow/tfjs-core';
import { Tokenizer } from '@huggingface/tokenizers';
import { ModelFormatError, type LoadPretrainedOptions, type PretrainedSource } from '@tfjs-lora/core';
import { openModelFiles } from '@tfjs-lora/core/pretrained';

/** One encoded text (or pair of texts). */
export interface TokenizerEncoding {
  /** Token ids, with the special tokens the tokenizer's post-processor adds ([CLS] … [SEP]). */
  readonly ids: number[];
  /** The tokens as strings. */
  readonly tokens: string[];
  /** 1 for every token. */
  readonly attentionMask: number[];
  /** 0 for the first text, 1 for the second of a pair (BERT's token types). */
  readonly tokenTypeIds: number[];
}

/** A batch ready for `model.predict`: int32 [batch, time] tensors named as the model's inputs. Dispose them. */
export interface TokenizedBatch {
  readonly input_ids: tf.Tensor2D;
  readonly attention_mask: tf.Tensor2D;
  readonly token_type_ids: tf.Tensor2D;
}

/** Options of {@link HfTokenizer.encodeBatch}. */
export interface EncodeBatchOptions {
  /** Truncate every text to this many tokens (after special tokens; default: no truncation). */
  maxLength?: number;
  /** Pad every row to this length (default: the longest row). */
  padTo?: number;
  /** The padding id (default: the tokenizer's pad token, else 0). */
  padTokenId?: number;
  /** Add the post-processor's special tokens (default true). */
  addSpecialTokens?: boolean;
}

/**
 * A Hugging Face tokenizer (`tokenizer.json`: BPE, byte-level BPE, WordPiece, Unigram, with their normalizers,
 * pre-tokenizers and post-processors), run by `@huggingface/tokenizers`; it gives the ids Python's
 * `tokenizers` gives (tested on a corpus with accents, CJK, emoji, RTL scripts).
 */
export class HfTokenizer {
  /** The underlying `@huggingface/tokenizers` Tokenizer. */
  readonly tokenizer: Tokenizer;
  /** The padding id from tokenizer_config.json (`pad_token`) or tokenizer.json (`padding.pad_id`), else null. */
  readonly padTokenId: number | null;
  /** Whether the post-processor is absent or ByteLevel (GPT-2's): pairs are then joined here (see encode). */
  private readonly plainPairs: boolean;
  /** transformers' `clean_up_tokenization_spaces` from tokenizer_config.json (Python's tokenizers never cleans up). */
  private readonly cleanUp: boolean;

  constructor(tokenizerJson: Record<string, unknown>, config: Record<string, unknown> = {}) {
    this.tokenizer = new Tokenizer(tokenizerJson, config);
    const padding = tokenizerJson['padding'] as { pad_id?: unknown } | null | undefined;
    const padToken = config['pad_token'];
    const name = typeof padToken === 'string' ? padToken : (padToken as { content?: string } | undefined)?.content;
    const fromConfig = name === undefined ? undefined : this.tokenizer.token_to_id(name);
    this.padTokenId = fromConfig ?? (typeof padding?.pad_id === 'number' ? padding.pad_id : null);
    const post = tokenizerJson['post_processor'] as { type?: string } | null | undefined;
    this.cleanUp = config['clean_up_tokenization_spaces'] === true;
    this.plainPairs = post === null || post === undefined || post.type === 'ByteLevel';
  }

  /** Encodes one text, or a pair (`pair`), with the special tokens (unless `addSpecialTokens: false`). */
  encode(text: string, options: { pair?: string; addSpecialTokens?: boolean } = {}): TokenizerEncoding {
    const run = (t: string, pair: string | null): TokenizerEncoding => {
      const e = this.tokenizer.encode(t, {
        text_pair: pair,
        add_special_tokens: options.addSpecialTokens ?? true,
        return_token_type_ids: true,
      });
      return { ids: e.ids, tokens: e.tokens, attentionMask: e.attention_mask, tokenTypeIds: e.token_type_ids };
    };
    if (options.pair === undefined || !this.plainPairs) return run(text, options.pair ?? null);
    // @huggingface/tokenizers 0.2.0 drops the second text when the post-processor is ByteLevel (or absent);
    // Python's tokenizers then concatenates the two encodings, type ids 0 and 1.
    const [a, b] = [run(text, null), run(options.pair, null)];
    return {
      ids: [...a.ids, ...b.ids],
      tokens: [...a.tokens, ...b.tokens],
      attentionMask: [...a.attentionMask, ...b.attentionMask],
      tokenTypeIds: [...a.ids.map(() => 0), ...b.ids.map(() => 1)],
    };
  }

  /**
   * Ids back to text; special tokens are skipped unless `skipSpecialTokens: false` (as Python's tokenizers), and
   * spaces are cleaned up (" ." → ".") only when tokenizer_config.json sets `clean_up_tokenization_spaces`.
   */
  decode(ids: readonly number[], options: { skipSpecialTokens?: boolean } = {}): string {
    if (ids.length === 0) return '';
    return this.tokenizer.decode([...ids], {
      skip_special_tokens: options.skipSpecialTokens ?? true,
      clean_up_tokenization_spaces: this.cleanUp,
    });
  }

  /** The id of a token string, or undefined. */
  tokenToId(token: string): number | undefined {
    return this.tokenizer.token_to_id(token);
  }

  /** Number of ids (with added tokens). */
  get vocabSize(): number {
    return this.tokenizer.get_vocab(true).size;
  }

  /**
   * Encodes texts into right-padded int32 tensors [batch, time]: `input_ids`, `attention_mask` (0 on padding)
   * and `token_type_ids`, keyed as the model's inputs (`model.inputNames.map((n) => batch[n])`).
   */
  encodeBatch(texts: readonly string[], options: EncodeBatchOptions = {}): TokenizedBatch {
    const rows = texts.map((t) => {
      const e = this.encode(t, { addSpecialTokens: options.addSpecialTokens });
      const n = options.maxLength === undefined ? e.ids.length : Math.min(options.maxLength, e.ids.length);
      return { ids: e.ids.slice(0, n), types: e.tokenTypeIds.slice(0, n) };
    });
    const longest = Math.max(1, ...rows.map((r) => r.ids.length));
    const time = options.padTo ?? longest;
    if (time < longest)
      throw new ModelFormatError(
        `encodeBatch: padTo ${time} is shorter than the longest encoded text (${longest} tokens); pass maxLength to truncate.`,
      );
    const pad = options.padTokenId ?? this.padTokenId ?? 0;
    const ids = new Int32Array(rows.length * time).fill(pad);
    const mask = new Int32Array(rows.length * time);
    const types = new Int32Array(rows.length * time);
    rows.forEach((r, i) => {
      ids.set(r.ids, i * time);
      mask.fill(1, i * time, i * time + r.ids.length);
      types.set(r.types, i * time);
    });
    const shape: [number, number] = [rows.length, time];
    return {
      input_ids: tf.tensor2d(ids, shape, 'int32'),
      attention_mask: tf.tensor2d(mask, shape, 'int32'),
      token_type_ids: tf.tensor2d(types, shape, 'int32'),
    };
  }
}

/**
 * Loads a Hugging Face tokenizer: `tokenizer.json` (and `tokenizer_config.json` when present) from a model
 * folder, a URL, `hf://org/name`, browser Files (the sources of `loadPretrained`), or a tokenizer.json object.
 *
 * @example
 * const tokenizer = await loadTokenizer('hf://openai-community/gpt2');
 * const batch = tokenizer.encodeBatch(['Hello world', 'Hi']);
 */
export async function loadTokenizer(
  source: PretrainedSource | { tokenizer: Record<string, unknown>; config?: Record<string, unknown> },
  options: LoadPretrainedOptions = {},
): Promise<HfTokenizer> {
  if (typeof source === 'object' && source !== null && 'tokenizer' in source && !('read' in source))
    return new HfTokenizer(source.tokenizer, source.config);
  const files = await openModelFiles(source as PretrainedSource, options);
  const name = files.entry !== undefined && /\.json$/i.test(files.entry) ? files.entry : 'tokenizer.json';
  const json = await files.readJson(name);
  if (json === undefined)
    throw new ModelFormatError(
      `No ${name} in ${files.description}. Expected a Hugging Face tokenizer (tokenizer.json, as tokenizers' save() or ` +
        'save_pretrained of a fast tokenizer writes); convert a slow tokenizer with AutoTokenizer.from_pretrained(..., use_fast=True).',
    );
  if (typeof json['model'] !== 'object' || json['model'] === null)
    throw new ModelFormatError(`${name} in ${files.description} has no 'model' object; expected a tokenizer.json.`);
  const config = (name === 'tokenizer.json' ? await files.readJson('tokenizer_config.json') : undefined) ?? {};
  return new HfTokenizer(json, config);
}
