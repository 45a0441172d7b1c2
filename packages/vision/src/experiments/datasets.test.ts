// MNIST / Fashion-MNIST readers and the inverted-rotated domain, against closed forms.
import { describe, expect, it } from 'vitest';
import { fashionMnistFolder, invertAndRotate, loadFashionMnist, loadMnist, PIXELS, type ImageSet } from './datasets.js';

describe('datasets', () => {
  it('reads MNIST slices (labels of the first test digits are 7 2 1 0 4, pixels in [0, 1])', () => {
    const test = loadMnist('test', { limit: 5 });
    expect(test.count).toBe(5);
    expect(Array.from(test.labels)).toEqual([7, 2, 1, 0, 4]);
    expect(test.images.length).toBe(5 * PIXELS);
    expect(Math.min(...test.images)).toBe(0);
    expect(Math.max(...test.images)).toBe(1);
    const later = loadMnist('train', { offset: 59_998 });
    expect(later.count).toBe(2);
  });

  it.skipIf(!fashionMnistFolder())('reads Fashion-MNIST (first test labels 9 2 1 1 6)', () => {
    const test = loadFashionMnist('test', { limit: 5 });
    expect(Array.from(test.labels)).toEqual([9, 2, 1, 1, 6]);
  });
  if (!fashionMnistFolder())
    console.warn(
      'SKIP Fashion-MNIST reader: /usr/share/datasets/fashion-mnist absent (apt-get install dataset-fashion-mnist)',
    );

  it('inverts exactly at 0 degrees, and turns exactly by 90 degrees (a pixel permutation)', () => {
    const one = loadMnist('test', { limit: 1 });
    const inverted = invertAndRotate(one, { minDegrees: 0, maxDegrees: 0, seed: 1 });
    for (let i = 0; i < PIXELS; i++) expect(inverted.images[i]).toBeCloseTo(1 - one.images[i], 6);
    const turned = invertAndRotate(one, { minDegrees: 90, maxDegrees: 90, seed: 1 });
    // a quarter turn about the centre maps pixel (y, x) to (x, 27 − y) or (27 − x, y): check one of them holds everywhere
    const at = (s: ImageSet, y: number, x: number) => s.images[y * 28 + x];
    const cw = [...Array(28).keys()].every((y) =>
      [...Array(28).keys()].every((x) => Math.abs(at(turned, y, x) - (1 - at(one, x, 27 - y))) < 1e-5),
    );
    const ccw = [...Array(28).keys()].every((y) =>
      [...Array(28).keys()].every((x) => Math.abs(at(turned, y, x) - (1 - at(one, 27 - x, y))) < 1e-5),
    );
    expect(cw || ccw).toBe(true);
  });
});
