// @tfjs-lora/backend-wasm against tfjs-backend-wasm as shipped: the kernels the package replaces (through
// tfjs's public ops, one thread), the MLP LoRA training step (784-512-512-10, batch 64, r=8 on all three
// Dense layers, Adam) and untransposed matMuls, in child processes: stock / ours 1 thread / ours 2 threads,
// run interleaved in rounds (rotating order). Medians of per-process medians. The machine may be shared:
// repeat.
//
//   pnpm bench wasm-kernels [rounds]        (default 3)
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { markdownTable, ms, ratio } from '../print-table.js';
import { median } from '../stats.js';

interface ChildResult {
  threads: number | undefined;
  lastLoss: number;
  kernels: Record<string, number>;
  [metric: string]: unknown;
}

const rounds = Number(process.argv[2] ?? 3);
const configs = ['stock', 'ours-1', 'ours-2'];
const results: Record<string, ChildResult[]> = Object.fromEntries(configs.map((c) => [c, []]));
const child = fileURLToPath(new URL('./wasm-step-child.ts', import.meta.url));
for (let r = 0; r < rounds; r++) {
  for (const c of configs.map((_, k) => configs[(k + r) % configs.length]!)) {
    const p = spawnSync(process.execPath, ['--import', 'tsx', child, c], { encoding: 'utf8', timeout: 300_000 });
    const line = p.stdout.split('\n').find((l) => l.startsWith('{'));
    if (!line) throw new Error(`bench child ${c} failed: ${p.stderr}`);
    results[c]!.push(JSON.parse(line) as ChildResult);
  }
  process.stderr.write(`round ${r + 1}/${rounds} done\n`);
}

const kernelNames = Object.keys(results['stock']![0]!.kernels);
const kernel = (c: string, name: string) => median(results[c]!.map((x) => x.kernels[name]!));
console.log(`\nKernels through tfjs ops, one thread (median ms over ${rounds} processes; speed-up = stock / ours)\n`);
console.log(
  markdownTable(
    ['kernel', 'stock ms', 'ours ms', 'speed-up'],
    kernelNames.map((n) => [
      n,
      ms(kernel('stock', n)),
      ms(kernel('ours-1', n)),
      ratio(kernel('stock', n), kernel('ours-1', n)),
    ]),
  ),
);

const metrics = ['stepMs', 'mm1024', 'mm64x784x512', 'mm64x512x512'];
console.log(
  `\nMLP LoRA step and untransposed matMuls: ${rounds} rounds of child processes, interleaved (median of per-process medians, ms)\n`,
);
console.log(
  markdownTable(
    ['metric', ...configs, 'stock / ours-1', 'ours-1 / ours-2'],
    metrics.map((m) => {
      const v = configs.map((c) => median(results[c]!.map((x) => x[m] as number)));
      return [m, ...v.map((x) => x.toFixed(2)), ratio(v[0]!, v[1]!), ratio(v[1]!, v[2]!)];
    }),
  ),
);
console.log(
  `\nthreads: ${configs.map((c) => `${c}=${results[c]![0]!.threads}`).join(', ')}; final losses ${configs.map((c) => results[c]![0]!.lastLoss.toFixed(4)).join(' / ')}`,
);
