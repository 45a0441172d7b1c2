/**
 * A small deterministic PRNG (mulberry32) returning floats in [0, 1): the same sequence on every backend
 * and platform, independent of tfjs's generators. Used for reproducible test data, data shuffling and
 * augmentation across the tfjs-lora packages.
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` deterministic values in [-scale, scale) from {@link seededRandom}. */
export function seededValues(n: number, seed: number, scale = 1): Float32Array {
  const next = seededRandom(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (next() * 2 - 1) * scale;
  return out;
}
