import * as tf from '@tensorflow/tfjs-core';

const REPLACEMENTS: Readonly<Record<string, string>> = {
  '\u2018': "'",
  '\u2019': "'",
  '\u201c': '"',
  '\u201d': '"',
  '\u2014': '-',
  '\u2013': '-',
  '\u2026': '...',
  '\u00a0': ' ',
  '\t': ' ',
  '\u00e6': 'ae',
  '\u00c6': 'AE',
  '\u00e9': 'e',
  '\u00e8': 'e',
  '\u00ea': 'e',
  '\u00e2': 'a',
  '\u00f6': 'o',
  '\u00fc': 'u',
  '\u00e0': 'a',
  '\u00e7': 'c',
  '\u00ef': 'i',
  '\u00f4': 'o',
  '\u00e4': 'a',
};

/**
 * A fixed character vocabulary: id 0 = unknown, 1 = newline, 2..96 = printable ASCII (space to '~'), so
 * every English text (Moby Dick, State of the Union speeches, e-mails) maps without fitting a vocabulary.
 * Typographic quotes, dashes and a few accented letters are folded to ASCII first; `\r` is dropped.
 */
export class CharTokenizer {
  /** Vocabulary size (97). */
  readonly vocabSize = 97;
  /** Id of characters outside the vocabulary. */
  readonly unknownId = 0;

  /** The text as the tokenizer sees it (ASCII-folded, no carriage returns). */
  normalize(text: string): string {
    let out = '';
    for (const ch of text) {
      if (ch === '\r') continue;
      out += REPLACEMENTS[ch] ?? ch;
    }
    return out;
  }

  /** Token ids of a text (after {@link normalize}). */
  encode(text: string): Int32Array {
    const norm = this.normalize(text);
    const ids = new Int32Array(norm.length);
    for (let i = 0; i < norm.length; i++) {
      const c = norm.charCodeAt(i);
      ids[i] = c === 10 ? 1 : c >= 32 && c <= 126 ? c - 30 : this.unknownId;
    }
    return ids;
  }

  /** Text of token ids (unknown ids become '?'). */
  decode(ids: ArrayLike<number>): string {
    let out = '';
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      out += id === 1 ? '\n' : id >= 2 && id <= 96 ? String.fromCharCode(id + 30) : '?';
    }
    return out;
  }

  /** Ids of a batch of texts, cropped or right-padded with spaces to `length`: [batch, length] int32. */
  encodeBatch(texts: readonly string[], length: number): tf.Tensor2D {
    const data = new Int32Array(texts.length * length).fill(2); // 2 = space
    texts.forEach((t, i) => data.set(this.encode(t).subarray(0, length), i * length));
    return tf.tensor2d(data, [texts.length, length], 'int32');
  }
}
