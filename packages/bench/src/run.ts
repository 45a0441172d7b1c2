// `pnpm bench` at the root: PEFT on PyTorch and tfjs-lora on wasm (1 and 2 threads), native TensorFlow
// and cpu, side by side in one run. Every engine is a long-lived worker process with its models built
// once; the conductor asks one worker at a time for a batch of steps (so engines never compete for the
// cores), rotating the engine order every round, and prints one table per workload with medians.
//
//   pnpm bench [--rounds 20] [--engines peft,wasm-1t,...] [--workloads mlp,cnn] [--cpu-cnn] [--target-ms 300]
import { cpus } from 'node:os';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ENGINES, type EngineName } from './protocol.js';
import { formatTables, medianOf, type Results } from './table.js';
import { startWorker, type Worker } from './worker-process.js';
import type { Variant, WorkloadName } from './workloads.js';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '20' },
    engines: { type: 'string', default: ENGINES.join(',') },
    workloads: { type: 'string', default: 'mlp,cnn' },
    'cpu-cnn': { type: 'boolean', default: false },
    'target-ms': { type: 'string', default: '300' },
  },
});
const ROUNDS = Number(args.rounds);
const TARGET_MS = Number(args['target-ms']);
const VARIANTS: Variant[] = ['lora', 'full'];
const log = (m: string) => process.stderr.write(`${m}\n`);

/** The command line of each engine's worker, or why it cannot run here. */
function workerCommand(
  engine: EngineName,
  workloads: WorkloadName[],
): { command: string; args: string[] } | { skip: string } {
  const list = workloads.join(',');
  if (engine === 'peft') {
    const python = process.env['PEFT_PYTHON'] ?? '/tmp/peftenv/bin/python';
    if (!existsSync(python))
      return {
        skip: `no Python with PEFT at ${python} (set PEFT_PYTHON; offline install: packages/test-support/README.md)`,
      };
    return { command: python, args: [fileURLToPath(new URL('./peft_worker.py', import.meta.url)), '2', list] };
  }
  return {
    command: process.execPath,
    args: ['--import', 'tsx', fileURLToPath(new URL('./worker.ts', import.meta.url)), engine, list],
  };
}

async function main(): Promise<void> {
  const started = performance.now();
  const workloads = args.workloads.split(',') as WorkloadName[];
  const skipped: string[] = [];
  const workers = new Map<EngineName, Worker>();
  for (const engine of args.engines.split(',') as EngineName[]) {
    const own = engine === 'cpu' && !args['cpu-cnn'] ? workloads.filter((w) => w !== 'cnn') : workloads;
    if (own.length < workloads.length) skipped.push(`cpu on the CNN: ~30 s per full fine-tuning step; add --cpu-cnn`);
    const command = workerCommand(engine, own);
    if ('skip' in command) {
      skipped.push(`${engine}: ${command.skip}`);
      continue;
    }
    log(`starting ${engine} …`);
    const worker = await startWorker(engine, command.command, command.args, own);
    if (worker.ready.ready) workers.set(engine, worker);
    else skipped.push(`${engine}: ${worker.ready.error}`);
  }
  const results: Results = {};
  // Warm-up: 3 steps of every model, which also size each engine's requests to about TARGET_MS of its own
  // work: a fast engine asked for only a few steps at a time would be timed cold after every switch.
  const steps = new Map<string, number>();
  for (const [engine, worker] of workers) {
    for (const w of worker.workloads) {
      for (const v of VARIANTS) {
        const reply = await worker.request({ workload: w, variant: v, steps: 3 });
        steps.set(
          `${engine}/${w}/${v}`,
          Math.max(2, Math.min(50, Math.round(TARGET_MS / Math.max(Math.min(...reply.times), 0.05)))),
        );
        ((results[w] ??= {})[engine] ??= {})[v] = {
          times: [],
          firstLoss: reply.firstLoss,
          loss: reply.loss,
          trainable: worker.ready.ready ? worker.ready.trainable[`${w}/${v}`] : 0,
        };
      }
    }
  }
  const engines = [...workers.keys()];
  for (let round = 0; round < ROUNDS; round++) {
    const order = engines.map((_, k) => engines[(k + round) % engines.length]);
    for (const w of workloads) {
      for (const v of VARIANTS) {
        for (const engine of order) {
          const worker = workers.get(engine)!;
          if (!worker.workloads.includes(w)) continue;
          const reply = await worker.request({ workload: w, variant: v, steps: steps.get(`${engine}/${w}/${v}`)! });
          const series = results[w]![engine]![v]!;
          series.times.push(...reply.times);
          series.loss = reply.loss;
        }
      }
    }
    log(`round ${round + 1}/${ROUNDS} done (${((performance.now() - started) / 1000).toFixed(0)} s)`);
  }
  const exits = await Promise.all([...workers.values()].map((w) => w.close()));
  const labels = Object.fromEntries([...workers].map(([e, w]) => [e, w.ready.ready ? w.ready.label : e]));
  const cpu = cpus();
  console.log(
    `\nMachine: ${cpu[0]?.model ?? 'unknown CPU'}, ${cpu.length} logical cores, Node ${process.version}; ${new Date().toISOString().slice(0, 10)}`,
  );
  console.log(
    `${ROUNDS} interleaved rounds after 3 warm-up steps, each request ≈ ${TARGET_MS} ms of the engine's own work; each worker runs alone while timed; PEFT with torch.set_num_threads(2).\n`,
  );
  console.log(formatTables(results, labels));
  const mlp = results.mlp;
  for (const engine of ['wasm-1t', 'wasm-2t'] as const) {
    if (mlp?.peft && mlp[engine]) {
      const r = medianOf(mlp[engine]!.lora) / medianOf(mlp.peft.lora);
      console.log(`MLP LoRA step, ${engine} / PEFT: ${r.toFixed(2)}× (goal ≤ 2.5×: ${r <= 2.5 ? 'met' : 'not met'})`);
    }
  }
  for (const s of skipped) console.log(`- skipped ${s}`);
  for (const e of exits.filter((x) => x !== 'exited')) console.log(`- ${e}`);
  console.log(`\n(total ${((performance.now() - started) / 1000).toFixed(0)} s)`);
}

await main();
