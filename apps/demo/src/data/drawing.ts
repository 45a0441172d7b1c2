// A drawing on the canvas to a 28×28 MNIST-style input: the ink's bounding box scaled to fit 20×20
// (aspect kept), then placed so that its centre of mass is at the centre, as MNIST was prepared.

/** Side of the model's input. */
export const SIDE = 28;

/**
 * Ink coverage in [0, 1] of a square `size × size` RGBA drawing (ink = bright pixels on a dark canvas) to
 * 28×28 pixels in [0, 1], white digit on black. An empty drawing gives all zeros.
 */
export function drawingToMnist(rgba: ArrayLike<number>, size: number): Float32Array {
  const ink = new Float32Array(size * size);
  let [top, left, bottom, right] = [size, size, -1, -1];
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const v = rgba[(y * size + x) * 4]! / 255;
      ink[y * size + x] = v;
      if (v > 0.1)
        [top, left, bottom, right] = [Math.min(top, y), Math.min(left, x), Math.max(bottom, y), Math.max(right, x)];
    }
  }
  const out = new Float32Array(SIDE * SIDE);
  if (bottom < 0) return out;
  const box = Math.max(bottom - top + 1, right - left + 1);
  const scale = 20 / box; // target pixels per source pixel
  // Area-average the box into a 20×20 (or smaller, aspect kept) patch.
  const h = Math.max(1, Math.round((bottom - top + 1) * scale));
  const w = Math.max(1, Math.round((right - left + 1) * scale));
  const patch = new Float32Array(h * w);
  for (let py = 0; py < h; py++) {
    for (let px = 0; px < w; px++) {
      const [y0, y1] = [top + py / scale, top + (py + 1) / scale];
      const [x0, x1] = [left + px / scale, left + (px + 1) / scale];
      let sum = 0;
      let n = 0;
      for (let y = Math.floor(y0); y < Math.min(Math.ceil(y1), size); y++) {
        for (let x = Math.floor(x0); x < Math.min(Math.ceil(x1), size); x++) {
          sum += ink[y * size + x]!;
          n++;
        }
      }
      patch[py * w + px] = n ? sum / n : 0;
    }
  }
  // Centre of mass of the patch goes to (14, 14).
  let [mass, cy, cx] = [0, 0, 0];
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      [mass, cy, cx] = [mass + patch[y * w + x]!, cy + y * patch[y * w + x]!, cx + x * patch[y * w + x]!];
  const offY = Math.round(SIDE / 2 - (mass ? cy / mass : h / 2) - 0.5);
  const offX = Math.round(SIDE / 2 - (mass ? cx / mass : w / 2) - 0.5);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const [ty, tx] = [y + offY, x + offX];
      if (ty >= 0 && ty < SIDE && tx >= 0 && tx < SIDE) out[ty * SIDE + tx] = Math.min(1, patch[y * w + x]!);
    }
  }
  return out;
}

/** The "inverted" look of the adapted domain: 1 − p (black digit on white). */
export function invert(pixels: Float32Array): Float32Array {
  return pixels.map((p) => 1 - p);
}
