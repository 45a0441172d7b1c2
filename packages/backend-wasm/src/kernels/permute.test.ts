// The JavaScript permutation against a direct index computation, on random shapes and permutations.
import { describe, expect, it } from 'vitest';
import { values } from '../../test-support/kernel-check.js';
import { collapsePermutation, permuteInto } from './permute.js';

/** out[i0..ir] = x[the input index whose axis perm[k] is ik]: the definition, one element at a time. */
function reference(x: Float32Array, shape: number[], perm: number[]): Float32Array {
  const outShape = perm.map((a) => shape[a]);
  const out = new Float32Array(x.length);
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((n, d) => n * d, 1));
  const idx = new Array<number>(shape.length).fill(0);
  for (let o = 0; o < out.length; o++) {
    let rem = o;
    for (let k = outShape.length - 1; k >= 0; k--) {
      idx[k] = rem % outShape[k];
      rem = Math.floor(rem / outShape[k]);
    }
    out[o] = x[perm.reduce((s, a, k) => s + idx[k] * strides[a], 0)];
  }
  return out;
}

/** Deterministic random shapes and permutations (rank 1–6, sizes 1–37, some size-1 axes). */
function cases(count: number): { shape: number[]; perm: number[] }[] {
  const r = values(count * 20, 11);
  let k = 0;
  const next = () => (r[k++] + 1) / 2;
  return Array.from({ length: count }, () => {
    const rank = 1 + Math.floor(next() * 6);
    const shape = Array.from({ length: rank }, () => (next() < 0.2 ? 1 : 1 + Math.floor(next() * (rank > 3 ? 7 : 37))));
    const perm = shape.map((_, i) => i).sort(() => next() - 0.5);
    return { shape, perm };
  });
}

describe('permuteInto', () => {
  it.each(cases(60).map((c) => [`${c.shape} by ${c.perm}`, c] as const))('%s', (_n, c) => {
    const n = c.shape.reduce((a, d) => a * d, 1);
    const x = values(n, 5);
    const { shape, perm } = collapsePermutation(c.shape, c.perm);
    const out = new Float32Array(n);
    permuteInto(x, out, shape, perm);
    expect(out).toEqual(reference(x, c.shape, c.perm));
  });

  it('collapses size-1 axes and neighbouring axes', () => {
    expect(collapsePermutation([2, 1, 3, 4], [1, 0, 2, 3])).toEqual({ shape: [24], perm: [0] });
    expect(collapsePermutation([2, 3, 4, 5], [2, 3, 0, 1])).toEqual({ shape: [6, 20], perm: [1, 0] });
    expect(collapsePermutation([2, 3, 4], [0, 2, 1])).toEqual({ shape: [2, 3, 4], perm: [0, 2, 1] });
  });
});
