// Timing helpers of the benchmark scripts.

/** Runs `fn(i)` `warmup` times untimed, then `reps` times; returns each timed run's milliseconds. */
export function timeMs(fn: (i: number) => void, warmup: number, reps: number): number[] {
  for (let i = 0; i < warmup; i++) fn(i);
  const out: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    fn(warmup + i);
    out.push(performance.now() - t);
  }
  return out;
}

/** The median of a sample. */
export function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
