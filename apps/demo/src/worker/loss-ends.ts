// Loss at the start and end of a run, smoothed over a few steps (one batch alone is noisy).
/** Mean loss of the first and of the last three steps (one batch alone is noisy). */
export function lossEnds(losses: readonly number[], k = 3): { firstLoss: number; lastLoss: number } {
  const mean = (xs: readonly number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
  const n = Math.min(k, Math.floor(losses.length / 2) || losses.length);
  return { firstLoss: mean(losses.slice(0, n)), lastLoss: mean(losses.slice(losses.length - n)) };
}
