// The faster BatchMatMul on wasm (transposed operands transposed first) against the cpu backend.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { maxDiff, onBoth, setUpBackends } from '../../test-support/kernel-check.js';
import { batchMatMul } from './BatchMatMul.js';

const CASES: { a: number[]; b: number[]; transposeA: boolean; transposeB: boolean }[] = [
  { a: [7, 5], b: [5, 3], transposeA: false, transposeB: false },
  { a: [5, 7], b: [5, 3], transposeA: true, transposeB: false },
  { a: [7, 5], b: [3, 5], transposeA: false, transposeB: true },
  { a: [5, 7], b: [3, 5], transposeA: true, transposeB: true },
  { a: [2, 37, 33], b: [2, 37, 65], transposeA: true, transposeB: false },
  { a: [3, 9, 70], b: [1, 41, 70], transposeA: false, transposeB: true },
  { a: [2, 1, 33, 4], b: [3, 17, 33], transposeA: true, transposeB: true },
];

describe('BatchMatMul (wasm, explicit transposes) vs cpu', () => {
  beforeAll(setUpBackends);

  it('replaces the wasm kernel', () => {
    expect(tf.getKernel('BatchMatMul', 'wasm')?.kernelFunc).toBe(batchMatMul);
  });

  it.each(CASES.map((c) => [`a ${c.a}${c.transposeA ? 'ᵀ' : ''} · b ${c.b}${c.transposeB ? 'ᵀ' : ''}`, c] as const))(
    '%s',
    async (_n, c) => {
      const { cpu, wasm } = await onBoth(
        'BatchMatMul',
        { a: { shape: c.a, seed: 3 }, b: { shape: c.b, seed: 4 } },
        { transposeA: c.transposeA, transposeB: c.transposeB },
      );
      expect(wasm.shape).toEqual(cpu.shape);
      expect(maxDiff(wasm.data, cpu.data)).toBeLessThan(1e-4);
      expect(wasm.leakedTensors).toBe(0);
      expect(wasm.leakedDataIds).toBe(0);
    },
  );
});
