import { describe, expect, it } from 'vitest';
import { lossEnds } from './loss-ends.js';

describe('lossEnds', () => {
  it('averages the first and last three steps', () => {
    expect(lossEnds([3, 2, 1, 9, 9, 0.5, 0.25, 0.75])).toEqual({ firstLoss: 2, lastLoss: 0.5 });
  });
  it('uses fewer steps on short runs, never overlapping halves', () => {
    expect(lossEnds([4, 2, 1, 3])).toEqual({ firstLoss: 3, lastLoss: 2 });
    expect(lossEnds([4, 2])).toEqual({ firstLoss: 4, lastLoss: 2 });
    expect(lossEnds([5])).toEqual({ firstLoss: 5, lastLoss: 5 });
    expect(lossEnds([])).toEqual({ firstLoss: NaN, lastLoss: NaN });
  });
});
