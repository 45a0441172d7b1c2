// The experiment drivers at toy scale (a 2-block random model, a few steps): they run every method,
// report trainable parameters equal to closed forms, call the progress callback, and free their tensors.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { formatSpamTable, runSpamClassification } from './spam-classifier.js';
import { formatStyleTable, runStyleAdaptation, splitSpeeches, type StyleProgress } from './style-adaptation.js';
import { transformerLM, type TransformerConfig } from '../transformer.js';
import '../register-on-import.js';

const CONFIG: TransformerConfig = {
  vocabSize: 97,
  maxLength: 16,
  width: 16,
  numHeads: 2,
  numLayers: 2,
  mlpDim: 32,
  seed: 3,
};
const W = 16;
const R = 2;

describe('experiment drivers (toy scale)', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('runStyleAdaptation: three methods, closed-form parameter counts, progress, samples, no leak', async () => {
    const base = transformerLM(CONFIG);
    const speeches = Array.from({ length: 10 }, (_, i) => ({
      year: 2000 + i,
      name: 'x',
      text: `Speech ${i}. The state of our union is strong. `.repeat(8),
    }));
    const progress: StyleProgress[] = [];
    const before = tf.memory().numTensors;
    const result = await runStyleAdaptation(
      { base, speeches, steps: 3, batchSize: 4, length: 16, r: R, loraAlpha: 4, evalWindows: 4, sampleTokens: 12 },
      (p) => progress.push(p),
    );
    expect(tf.memory().numTensors).toBe(before);
    expect(result.rows.map((r) => r.method)).toEqual(['lora-qv', 'lora-all-linear', 'full']);
    const [qv, all, full] = result.rows;
    const total = base.countParams();
    expect(qv!.trainableParams).toBe(CONFIG.numLayers * 2 * (W * R + R * W));
    expect(qv!.totalParams).toBe(total + qv!.trainableParams);
    const linear = 4 * (W * R + R * W) + (W * R + R * 32) + (32 * R + R * W);
    expect(all!.trainableParams).toBe(CONFIG.numLayers * linear);
    expect(full!.trainableParams).toBe(total);
    for (const r of result.rows) expect(Number.isFinite(r.heldOutPerplexity) && r.heldOutPerplexity > 1).toBe(true);
    expect(progress.filter((p) => p.phase === 'train')).toHaveLength(9);
    expect(result.samples!.adapterOn).toHaveLength(12);
    expect(formatStyleTable(result).split('\n')).toHaveLength(6);
    expect(splitSpeeches(speeches).heldOut.split('\n\n')).toHaveLength(2);
    base.dispose();
  });

  it('runSpamClassification: LoRA on embeddings + attention vs head only, closed-form parameter counts', async () => {
    const base = transformerLM(CONFIG);
    const emails = Array.from({ length: 60 }, (_, i) => ({
      text: i % 3 === 0 ? `WIN CASH NOW ${i}!!!` : `meeting notes ${i} attached`,
      spam: i % 3 === 0,
      group: 'toy',
    }));
    const before = tf.memory().numTensors;
    const result = await runSpamClassification({
      base,
      emails,
      steps: 4,
      batchSize: 8,
      length: 16,
      r: R,
      loraAlpha: 4,
    });
    expect(tf.memory().numTensors).toBe(before);
    const [lora, head] = result.rows;
    const headParams = W * 2 + 2;
    expect(head!.trainableParams).toBe(headParams);
    expect(lora!.trainableParams).toBe(97 * R + R * W + CONFIG.numLayers * 4 * (W * R + R * W) + headParams);
    for (const r of result.rows) expect(r.accuracy).toBeGreaterThanOrEqual(0);
    expect(result.testEmails).toBe(12);
    expect(formatSpamTable(result)).toContain('head only');
    base.dispose();
  });
});
