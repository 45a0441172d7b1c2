// The demo's compact image-set file: what the build writes into dist/data/ and the worker reads back.
// Layout (little-endian): 'TLIS' magic, uint32 version (1), uint32 count, uint16 rows, uint16 cols,
// then `count` uint8 labels, then `count × rows × cols` uint8 pixels (0 = black, 255 = white).

/** File magic: "TLIS" (tfjs-lora image set). */
export const IMAGE_SET_MAGIC = 0x53494c54;
/** Header bytes before the labels. */
export const IMAGE_SET_HEADER = 16;

/** Grey images with labels, pixels as bytes. */
export interface ByteImageSet {
  /** Number of images. */
  count: number;
  /** Image height. */
  rows: number;
  /** Image width. */
  cols: number;
  /** `count` labels. */
  labels: Uint8Array;
  /** `count × rows × cols` pixels, row-major, one image after another. */
  pixels: Uint8Array;
}

/** Thrown when bytes are not an image-set file; says what was expected and what was found. */
export class ImageSetFormatError extends Error {
  override readonly name = 'ImageSetFormatError';
}

/** Pixels in [0, 1] (values outside are clamped) to bytes, rounded to the nearest 1/255. */
export function quantizePixels(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = Math.round(Math.min(1, Math.max(0, values[i]!)) * 255);
  return out;
}

/** Bytes to pixels in [0, 1]. */
export function pixelsToFloat(pixels: Uint8Array): Float32Array {
  const out = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) out[i] = pixels[i]! / 255;
  return out;
}

/** Encodes a set as one file (header, labels, pixels). */
export function encodeImageSet(set: ByteImageSet): Uint8Array {
  const size = set.rows * set.cols;
  if (set.labels.length !== set.count || set.pixels.length !== set.count * size) {
    throw new ImageSetFormatError(
      `encodeImageSet: expected ${set.count} labels and ${set.count * size} pixels (${set.count} × ${set.rows} × ${set.cols}); ` +
        `found ${set.labels.length} labels and ${set.pixels.length} pixels.`,
    );
  }
  const out = new Uint8Array(IMAGE_SET_HEADER + set.count * (1 + size));
  const view = new DataView(out.buffer);
  view.setUint32(0, IMAGE_SET_MAGIC, true);
  view.setUint32(4, 1, true);
  view.setUint32(8, set.count, true);
  view.setUint16(12, set.rows, true);
  view.setUint16(14, set.cols, true);
  out.set(set.labels, IMAGE_SET_HEADER);
  out.set(set.pixels, IMAGE_SET_HEADER + set.count);
  return out;
}

/** Decodes a file written by {@link encodeImageSet}; the arrays are views into `bytes`. */
export function decodeImageSet(bytes: Uint8Array): ByteImageSet {
  if (bytes.length < IMAGE_SET_HEADER)
    throw new ImageSetFormatError(
      `Image set: expected at least ${IMAGE_SET_HEADER} header bytes; found ${bytes.length}. Rebuild the demo.`,
    );
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, true);
  if (magic !== IMAGE_SET_MAGIC)
    throw new ImageSetFormatError(
      `Image set: expected magic 0x${IMAGE_SET_MAGIC.toString(16)} ('TLIS'); found 0x${magic.toString(16)}. Is this an HTML error page?`,
    );
  const version = view.getUint32(4, true);
  if (version !== 1)
    throw new ImageSetFormatError(`Image set: expected version 1; found ${version}. Rebuild the demo.`);
  const count = view.getUint32(8, true);
  const rows = view.getUint16(12, true);
  const cols = view.getUint16(14, true);
  const expected = IMAGE_SET_HEADER + count * (1 + rows * cols);
  if (bytes.length !== expected)
    throw new ImageSetFormatError(
      `Image set: ${count} images of ${rows}×${cols} need ${expected} bytes; found ${bytes.length} (truncated download?).`,
    );
  const labels = bytes.subarray(IMAGE_SET_HEADER, IMAGE_SET_HEADER + count);
  const pixels = bytes.subarray(IMAGE_SET_HEADER + count, expected);
  return { count, rows, cols, labels, pixels };
}
