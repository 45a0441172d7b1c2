// Statistics and the Markdown table of the side-by-side benchmark.
import type { EngineName } from './protocol.js';
import { WORKLOADS, type Variant, type WorkloadName } from './workloads.js';

/** The q-quantile of `v` (linear interpolation between order statistics), e.g. 0.5 for the median. */
export function quantile(v: readonly number[], q: number): number {
  if (v.length === 0) return NaN;
  const s = [...v].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  return s[lo] + (s[Math.min(lo + 1, s.length - 1)] - s[lo]) * (pos - lo);
}

/** Step times and end state of one engine on one model. */
export interface Series {
  times: number[];
  /** Loss at the first warm-up step and after the last step. */
  firstLoss: number;
  loss: number;
  trainable: number;
}

/** Everything measured: `results[workload][engine][variant]`. */
export type Results = Partial<Record<WorkloadName, Partial<Record<EngineName, Partial<Record<Variant, Series>>>>>>;

const num = (v: number): string => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const ratio = (a: number, b: number): string =>
  Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : '–';

/** `median (q1–q3)` of a series, or '–'. */
export function formatTiming(s: Series | undefined): string {
  if (!s || s.times.length === 0) return '–';
  return `${num(quantile(s.times, 0.5))} (${num(quantile(s.times, 0.25))}–${num(quantile(s.times, 0.75))})`;
}

/** Median ms per step of a series (NaN when absent). */
export function medianOf(s: Series | undefined): number {
  return s ? quantile(s.times, 0.5) : NaN;
}

/**
 * One Markdown table per workload: a row per engine with LoRA and full fine-tuning medians, LoRA/full,
 * and each against PEFT on PyTorch (the `peft` engine) when it ran.
 */
export function formatTables(results: Results, labels: Partial<Record<EngineName, string>>): string {
  const out: string[] = [];
  for (const workload of Object.keys(results) as WorkloadName[]) {
    const engines = results[workload]!;
    const peft = engines.peft;
    out.push(
      `**${WORKLOADS[workload].title}**, batch 64, Adam, LoRA r=8 on ${WORKLOADS[workload].targets.join(', ')}; ms per training step, median (IQR)`,
    );
    out.push('');
    out.push(
      '| engine | LoRA step | full FT step | LoRA / full | LoRA vs PEFT LoRA | full vs PyTorch full | trainable LoRA / full | loss first → last: LoRA; full |',
    );
    out.push('|---|---:|---:|---:|---:|---:|---:|---|');
    for (const [engine, v] of Object.entries(engines) as [EngineName, Partial<Record<Variant, Series>>][]) {
      const lora = v.lora;
      const full = v.full;
      const trainable = `${lora?.trainable.toLocaleString('en-US') ?? '–'} / ${full?.trainable.toLocaleString('en-US') ?? '–'}`;
      const losses = [lora, full]
        .map((x) => (x === undefined ? '–' : `${x.firstLoss.toFixed(2)} → ${x.loss.toFixed(2)}`))
        .join('; ');
      out.push(
        `| ${labels[engine] ?? engine} | ${formatTiming(lora)} | ${formatTiming(full)} | ${ratio(medianOf(lora), medianOf(full))} | ` +
          `${engine === 'peft' ? '1×' : ratio(medianOf(lora), medianOf(peft?.lora))} | ${engine === 'peft' ? '1×' : ratio(medianOf(full), medianOf(peft?.full))} | ${trainable} | ${losses} |`,
      );
    }
    out.push('');
  }
  return out.join('\n');
}
