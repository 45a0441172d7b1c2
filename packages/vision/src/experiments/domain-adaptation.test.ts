// A small run of the domain-adaptation experiment: every method's row, parameter counts against the
// closed form, the ≤ 10% budget of LoRA r=8, progress events, and no tensor leak.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { fastestBackend } from '../../test-support/backend.js';
import { formatAdaptationTable, runDomainAdaptation, type AdaptationProgress } from './index.js';

// conv1 3·3·1→32, conv2 3·3·32→64, fc1 1600→128, head 128→10: LoRA has r·(fan-in + out) per layer
const loraParams = (r: number) => r * (9 + 32) + r * (288 + 64) + r * (1600 + 128) + r * (128 + 10);
const FULL = 320 + 18_496 + 204_928 + 1_290;

describe('runDomainAdaptation (small)', () => {
  beforeAll(async () => {
    await fastestBackend();
  });

  it('reports every method with closed-form parameter counts, emits progress, and leaks nothing', async () => {
    const events: AdaptationProgress[] = [];
    const before = tf.memory().numTensors;
    const result = await runDomainAdaptation(
      { ranks: [1, 8], epochs: 1, trainSize: 128, testSize: 200, batchSize: 64 },
      (p) => events.push(p),
    );
    expect(tf.memory().numTensors).toBe(before);
    expect(result.rows.map((r) => r.method)).toEqual([
      'base (no training)',
      'head only',
      'LoRA r=1',
      'LoRA r=8',
      'full fine-tuning',
    ]);
    const byName = Object.fromEntries(result.rows.map((r) => [r.method, r]));
    expect(byName['head only'].trainable).toBe(1_290);
    expect(byName['LoRA r=1'].trainable).toBe(loraParams(1));
    expect(byName['LoRA r=8'].trainable).toBe(loraParams(8));
    expect(byName['full fine-tuning'].trainable).toBe(FULL);
    expect(byName['LoRA r=8'].percentOfFull).toBeCloseTo((100 * loraParams(8)) / FULL, 6);
    expect(byName['LoRA r=8'].percentOfFull).toBeLessThanOrEqual(10);
    for (const r of result.rows.slice(1)) {
      expect(r.trainSeconds).toBeGreaterThan(0);
      expect(r.peakBytes).toBeGreaterThan(0);
      expect(r.accuracy).toBeGreaterThanOrEqual(0);
    }
    expect(events.filter((e) => e.kind === 'step')).toHaveLength(4 * 2);
    expect(events.filter((e) => e.kind === 'result')).toHaveLength(5);
    expect(formatAdaptationTable(result.rows).split('\n')).toHaveLength(7);
  });
});
