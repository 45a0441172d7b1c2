import { describe, expect, it } from 'vitest';
import { drawingToMnist, invert, SIDE } from './drawing.js';

/** A size×size RGBA canvas with white ink where `ink(y, x)` is true. */
function canvas(size: number, ink: (y: number, x: number) => boolean): Uint8ClampedArray {
  const rgba = new Uint8ClampedArray(size * size * 4);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) if (ink(y, x)) rgba.set([255, 255, 255, 255], (y * size + x) * 4);
  return rgba;
}

function box(img: Float32Array): { top: number; bottom: number; left: number; right: number; cy: number; cx: number } {
  let [top, bottom, left, right, mass, cy, cx] = [SIDE, -1, SIDE, -1, 0, 0, 0];
  for (let y = 0; y < SIDE; y++) {
    for (let x = 0; x < SIDE; x++) {
      const v = img[y * SIDE + x]!;
      if (v > 0.05)
        [top, bottom, left, right] = [Math.min(top, y), Math.max(bottom, y), Math.min(left, x), Math.max(right, x)];
      [mass, cy, cx] = [mass + v, cy + v * y, cx + v * x];
    }
  }
  return { top, bottom, left, right, cy: cy / mass, cx: cx / mass };
}

describe('drawingToMnist', () => {
  it('gives zeros for an empty drawing', () => {
    expect(
      drawingToMnist(
        canvas(100, () => false),
        100,
      ).every((v) => v === 0),
    ).toBe(true);
  });

  it('scales the ink to 20 pixels high and centres its mass, as MNIST was made', () => {
    // A vertical bar in the top-left corner: 60 px high, 12 px wide.
    const img = drawingToMnist(
      canvas(140, (y, x) => y >= 10 && y < 70 && x >= 5 && x < 17),
      140,
    );
    const b = box(img);
    expect(b.bottom - b.top + 1).toBe(20);
    expect(b.right - b.left + 1).toBe(4);
    expect(Math.abs(b.cy - 13.5)).toBeLessThanOrEqual(1);
    expect(Math.abs(b.cx - 13.5)).toBeLessThanOrEqual(1);
    expect(Math.max(...img)).toBeLessThanOrEqual(1);
  });

  it('keeps the aspect of a wide stroke', () => {
    const img = drawingToMnist(
      canvas(100, (y, x) => y >= 40 && y < 50 && x >= 0 && x < 100),
      100,
    );
    const b = box(img);
    expect(b.right - b.left + 1).toBe(20);
    expect(b.bottom - b.top + 1).toBe(2);
  });

  it('invert maps p to 1 - p', () => {
    expect([...invert(Float32Array.of(0, 0.25, 1))]).toEqual([1, 0.75, 0]);
  });
});
