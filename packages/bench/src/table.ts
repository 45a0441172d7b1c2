// Statistics and the Markdown table of the side-by-side benchmark.
import { markdownTable, ms, ratio } from './print-table.js';
import type { EngineName } from './protocol.js';
import { quantile } from './stats.js';
import { WORKLOADS, type Variant, type WorkloadName } from './workloads.js';

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

export { quantile } from './stats.js';

/** `median (q1–q3)` of a series, or '–'. */
export function formatTiming(s: Series | undefined): string {
  if (!s || s.times.length === 0) return '–';
  return `${ms(quantile(s.times, 0.5))} (${ms(quantile(s.times, 0.25))}–${ms(quantile(s.times, 0.75))})`;
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
    const rows = (Object.entries(engines) as [EngineName, Partial<Record<Variant, Series>>][]).map(([engine, v]) => {
      const { lora, full } = v;
      const trainable = `${lora?.trainable.toLocaleString('en-US') ?? '–'} / ${full?.trainable.toLocaleString('en-US') ?? '–'}`;
      const losses = [lora, full]
        .map((x) => (x === undefined ? '–' : `${x.firstLoss.toFixed(2)} → ${x.loss.toFixed(2)}`))
        .join('; ');
      const vsPeft = (x: Series | undefined, p: Series | undefined) =>
        engine === 'peft' ? '1×' : ratio(medianOf(x), medianOf(p));
      return [
        labels[engine] ?? engine,
        formatTiming(lora),
        formatTiming(full),
        ratio(medianOf(lora), medianOf(full)),
        vsPeft(lora, peft?.lora),
        vsPeft(full, peft?.full),
        trainable,
        losses,
      ];
    });
    const header = ['engine', 'LoRA step', 'full FT step', 'LoRA / full', 'LoRA vs PEFT LoRA', 'full vs PyTorch full'];
    out.push(
      markdownTable([...header, 'trainable LoRA / full', 'loss first → last: LoRA; full'], rows, [
        'l',
        'r',
        'r',
        'r',
        'r',
        'r',
        'r',
        'l',
      ]),
    );
    out.push('');
  }
  return out.join('\n');
}
