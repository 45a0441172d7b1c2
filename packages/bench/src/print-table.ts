// The one table format of the benchmarks: a Markdown table (renders in READMEs, reads as text in a
// terminal), first column left-aligned, the others right-aligned unless told otherwise.

/** Column alignment: 'l' left, 'r' right. */
export type Align = 'l' | 'r';

/**
 * A Markdown table of `header` and `rows` (cells as strings; a number is printed as is). Columns are
 * padded to their widest cell so that the text lines up in a terminal too.
 */
export function markdownTable(
  header: readonly string[],
  rows: readonly (readonly (string | number)[])[],
  align: readonly Align[] = header.map((_, i) => (i === 0 ? 'l' : 'r')),
): string {
  const cells = [header, ...rows].map((r) => header.map((_, i) => String(r[i] ?? '')));
  const widths = header.map((_, i) => Math.max(3, ...cells.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    `| ${r.map((c, i) => (align[i] === 'r' ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (align[i] === 'r' ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  return [line(cells[0]!), rule, ...cells.slice(1).map(line)].join('\n');
}

/** Milliseconds with precision that suits their size (e.g. 1234, 56.7, 8.90, 0.123). */
export function ms(v: number): string {
  if (!Number.isFinite(v)) return '–';
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toFixed(3);
}

/** `a / b` as `1.23×`, or '–' when either is missing. */
export function ratio(a: number, b: number): string {
  return Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : '–';
}
