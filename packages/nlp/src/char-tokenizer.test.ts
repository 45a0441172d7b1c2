import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { CharTokenizer } from './char-tokenizer.js';

describe('CharTokenizer', () => {
  const tok = new CharTokenizer();

  it('round-trips printable ASCII and newlines, ids in [0, 97)', () => {
    const text = 'Call me Ishmael.\nSome years ago -- never mind how long precisely ~ {x}';
    const ids = tok.encode(text);
    expect(tok.decode(ids)).toBe(text);
    expect(Math.max(...ids)).toBeLessThan(tok.vocabSize);
    expect(ids[0]).toBe('C'.charCodeAt(0) - 30);
  });

  it('folds typography to ASCII and maps the rest to unknown', () => {
    expect(tok.decode(tok.encode('“Hello”—it’s…\r\n'))).toBe('"Hello"-it\'s...\n');
    expect(tok.encode('€')[0]).toBe(tok.unknownId);
  });

  it('pads and crops batches with spaces', async () => {
    await tf.setBackend('cpu');
    const batch = tok.encodeBatch(['ab', 'abcdef'], 4);
    expect(batch.shape).toEqual([2, 4]);
    expect(tok.decode(batch.arraySync()[0]!)).toBe('ab  ');
    expect(tok.decode(batch.arraySync()[1]!)).toBe('abcd');
    batch.dispose();
  });
});
