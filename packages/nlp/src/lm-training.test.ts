// Language-model training helpers against closed forms: a model with zero logits has perplexity = vocab
// size; the loss equals -mean log softmax at the targets; training lowers the loss and frees its tensors.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { nextTokenLoss, perplexity, trainLanguageModel } from './lm-training.js';
import { emailText } from './experiments/text-data.js';
import { evaluationOffsets, windowsAt } from './text-windows.js';
import { transformerLM } from './transformer.js';
import './register-on-import.js';

describe('language-model training helpers', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('nextTokenLoss is the mean of -log softmax at the targets', () => {
    const logits = tf.tensor3d([
      [
        [1, 2, 0],
        [0, 0, 3],
      ],
    ]);
    const targets = tf.tensor2d([[1, 0]], undefined, 'int32');
    const lse = (v: number[]) => Math.log(v.reduce((a, x) => a + Math.exp(x), 0));
    const expected = (lse([1, 2, 0]) - 2 + (lse([0, 0, 3]) - 0)) / 2;
    const loss = nextTokenLoss(logits, targets);
    expect(Math.abs(loss.dataSync()[0]! - expected)).toBeLessThan(1e-6);
    tf.dispose([logits, targets, loss]);
  });

  it('a model with zero logits has perplexity exactly the vocabulary size', () => {
    const model = transformerLM({ vocabSize: 11, maxLength: 8, width: 8, numHeads: 2, numLayers: 1, seed: 1 });
    const head = model.getLayer('lm_head');
    const zeros = head.getWeights().map((w) => tf.zerosLike(w));
    head.setWeights(zeros);
    tf.dispose(zeros);
    const ids = Int32Array.from({ length: 100 }, (_, i) => (i * 7) % 11);
    expect(perplexity(model, ids, { length: 8, maxWindows: 5 })).toBeCloseTo(11, 4);
    model.dispose();
  });

  it('training lowers the loss on a repetitive text and leaves no tensor behind', async () => {
    const model = transformerLM({ vocabSize: 5, maxLength: 8, width: 16, numHeads: 2, numLayers: 1, seed: 2 });
    const ids = Int32Array.from({ length: 400 }, (_, i) => i % 5);
    const before = perplexity(model, ids, { length: 8, maxWindows: 8 });
    const tensors = tf.memory().numTensors;
    const steps: number[] = [];
    const result = await trainLanguageModel(model, ids, {
      steps: 30,
      batchSize: 8,
      length: 8,
      learningRate: 1e-2,
      onStep: (s) => void steps.push(s),
    });
    expect(tf.memory().numTensors).toBe(tensors);
    expect(steps).toHaveLength(30);
    expect(result.peakBytes).toBeGreaterThan(0);
    expect(perplexity(model, ids, { length: 8, maxWindows: 8 })).toBeLessThan(before / 2);
    model.dispose();
  });

  it('cuts windows and e-mail text as documented', () => {
    const { x, y } = windowsAt(Int32Array.from([0, 1, 2, 3, 4, 5]), [0, 2], 3);
    expect(x.arraySync()).toEqual([
      [0, 1, 2],
      [2, 3, 4],
    ]);
    expect(y.arraySync()).toEqual([
      [1, 2, 3],
      [3, 4, 5],
    ]);
    tf.dispose([x, y]);
    expect(evaluationOffsets(100, 10, 3)).toEqual([0, 30, 60]);
    expect(emailText('From: a\nSubject: Hi there\n\n<p>Cheap   <b>pills</b></p>\n')).toBe('Hi there\nCheap pills');
  });
});
