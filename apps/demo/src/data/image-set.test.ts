import { describe, expect, it } from 'vitest';
import {
  decodeImageSet,
  encodeImageSet,
  IMAGE_SET_HEADER,
  ImageSetFormatError,
  pixelsToFloat,
  quantizePixels,
} from './image-set.js';

describe('image-set files', () => {
  const set = {
    count: 3,
    rows: 2,
    cols: 2,
    labels: Uint8Array.of(7, 0, 9),
    pixels: Uint8Array.from({ length: 12 }, (_, i) => i * 20),
  };

  it('round-trips header, labels and pixels', () => {
    const bytes = encodeImageSet(set);
    expect(bytes.length).toBe(IMAGE_SET_HEADER + 3 + 12);
    expect(String.fromCharCode(...bytes.subarray(0, 4))).toBe('TLIS');
    const back = decodeImageSet(bytes);
    expect({ ...back, labels: [...back.labels], pixels: [...back.pixels] }).toEqual({
      ...set,
      labels: [7, 0, 9],
      pixels: [...set.pixels],
    });
  });

  it('decodes from a view at an offset (a fetched buffer slice)', () => {
    const bytes = encodeImageSet(set);
    const padded = new Uint8Array(bytes.length + 5);
    padded.set(bytes, 5);
    expect([...decodeImageSet(padded.subarray(5)).labels]).toEqual([7, 0, 9]);
  });

  it('rejects wrong magic, truncation and mismatched input with what was expected', () => {
    const bytes = encodeImageSet(set);
    expect(() => decodeImageSet(new TextEncoder().encode('<!doctype html><html></html>'))).toThrow(/magic .*HTML/);
    expect(() => decodeImageSet(bytes.subarray(0, bytes.length - 1))).toThrow(ImageSetFormatError);
    expect(() => decodeImageSet(bytes.subarray(0, 8))).toThrow(/header bytes/);
    expect(() => encodeImageSet({ ...set, count: 4 })).toThrow(/expected 4 labels and 16 pixels/);
  });

  it('quantizes [0, 1] to bytes and back within half a step, clamping outside values', () => {
    const values = Float32Array.of(0, 0.25, 0.5, 1, -0.2, 1.7, 0.001);
    const q = quantizePixels(values);
    expect([...q]).toEqual([0, 64, 128, 255, 0, 255, 0]);
    const back = pixelsToFloat(q);
    for (let i = 0; i < 4; i++) expect(Math.abs(back[i]! - values[i]!)).toBeLessThanOrEqual(0.5 / 255 + 1e-7);
  });
});
