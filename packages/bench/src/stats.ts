// Timing and statistics helpers shared by every benchmark of this package.

/**
 * Runs `fn(i)` `warmup` times untimed, then `reps` times; resolves to each timed run's milliseconds. Each
 * call is awaited before the next starts, and its time includes that wait (so a `fn` that awaits its
 * result's `data()` is timed until the result is on the host).
 */
export async function timeMs(fn: (i: number) => void | Promise<void>, warmup: number, reps: number): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn(i);
  const out: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    await fn(warmup + i);
    out.push(performance.now() - t);
  }
  return out;
}

/** The q-quantile of `v` (linear interpolation between order statistics), e.g. 0.5 for the median. */
export function quantile(v: readonly number[], q: number): number {
  if (v.length === 0) return NaN;
  const s = [...v].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  return s[lo]! + (s[Math.min(lo + 1, s.length - 1)]! - s[lo]!) * (pos - lo);
}

/** The median of a sample (NaN when empty). */
export function median(v: readonly number[]): number {
  return quantile(v, 0.5);
}

/** `count` deterministic floats in [-1, 1) from `seed` (a 32-bit LCG: the same inputs on every run). */
export function seededFloats(count: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  return Float32Array.from({ length: count }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}
