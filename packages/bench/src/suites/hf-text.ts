// `pnpm bench hf-text`: a LoRA fine-tuning step of a Hugging Face-shaped text model built by @tfjs-lora/nlp's
// 'hf-text' architectures (random weights, `buildHfTextModel`), ours on wasm (and native when its binding is
// built) against PEFT on PyTorch CPU (suites/peft_hf_text_bench.py, $PEFT_PYTHON, default /tmp/peftenv/bin/python)
// with the same shapes: ms per step as a ratio, and peak memory.
//
// Workloads (issue 16): GPT-2 small (12 layers, 768 wide, 12 heads, vocab 50257, 124M parameters; LoRA r=8 on
// c_attn; next-token cross-entropy over the vocabulary) and a DistilBERT-base classifier (6 layers, 768, 12
// heads, vocab 30522; LoRA r=8 on q_lin, v_lin, the heads trained whole as PEFT's SEQ_CLS; 2 classes); sequence 128, batch 8. Flags scale them down for a
// shared machine: --model gpt2|distilbert|both, --layers, --seq, --batch, --steps (timed, after one warm-up);
// --engines wasm,native picks ours (default both).
//
// Peak memory: ours is tfjs's peak tensor bytes of one step (`tf.profile`, the frozen weights included; it counts
// a reshape's output as new bytes although wasm shares the data, so it overstates), and on wasm the heap's size
// after the run (it only grows: a bound on the true peak; wasm's heap is at most 4 GB); PEFT's is the growth of the process's peak RSS over
// its steps (PyTorch frees activations to its allocator, so RSS is the closest measure it offers). tfjs keeps
// a copy of GPT-2's tied table for lm_head (154 MB at this size; see the nlp README).
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { applyLora, useBackend } from '@tfjs-lora/core';
import { buildHfTextModel } from '@tfjs-lora/nlp';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { markdownTable, ms } from '../print-table.js';
import { HF_VOCAB, hfTextConfig, hfTextTrainStep, type HfTextFamily } from './hf-text-step.js';

const { values: a } = parseArgs({
  options: {
    model: { type: 'string', default: 'both' },
    layers: { type: 'string' },
    seq: { type: 'string', default: '128' },
    batch: { type: 'string', default: '8' },
    steps: { type: 'string', default: '2' },
    r: { type: 'string', default: '8' },
    engines: { type: 'string', default: 'wasm,native' },
  },
});
const ENGINES = new Set(a.engines!.split(','));
const SEQ = Number(a.seq);
const BATCH = Number(a.batch);
const STEPS = Number(a.steps);
const R = Number(a.r);
const log = (m: string) => process.stderr.write(`${m}\n`);

interface Workload {
  name: string;
  family: HfTextFamily;
  layers: number;
  vocab: number;
  targets: string[];
  /** Trained whole, as PEFT's SEQ_CLS task does with the classifier heads (modules_to_save). */
  modulesToSave?: string[];
  config: Record<string, unknown>;
}

function workloads(): Workload[] {
  const wanted = a.model === 'both' ? ['gpt2', 'distilbert'] : [a.model!];
  const out: Workload[] = [];
  if (wanted.includes('gpt2')) {
    const layers = Number(a.layers ?? 12);
    out.push({
      name: `GPT-2 (${layers} layers), LoRA on c_attn`,
      family: 'gpt2',
      layers,
      vocab: HF_VOCAB.gpt2,
      targets: ['c_attn'],
      config: hfTextConfig('gpt2', layers),
    });
  }
  if (wanted.includes('distilbert')) {
    const layers = Number(a.layers ?? 6);
    out.push({
      name: `DistilBERT classifier (${layers} layers), LoRA on q_lin, v_lin`,
      family: 'distilbert',
      layers,
      vocab: HF_VOCAB.distilbert,
      targets: ['q_lin', 'v_lin'],
      modulesToSave: ['pre_classifier', 'classifier'],
      config: hfTextConfig('distilbert', layers),
    });
  }
  return out;
}

interface Ours {
  ms: number;
  peakMiB: number;
  /** wasm only: the size of the wasm heap after the steps (it grows and never shrinks: the true peak's bound). */
  heapMiB?: number;
  trainable: number;
  total: number;
}

async function ours(w: Workload): Promise<Ours> {
  const model = buildHfTextModel(w.config, { seed: 1 });
  const lora = applyLora(model, {
    r: R,
    loraAlpha: 2 * R,
    targetModules: w.targets,
    ...(w.modulesToSave ? { modulesToSave: w.modulesToSave } : {}),
  });
  const count = lora.trainableParameters();
  const { step, dispose } = hfTextTrainStep(model, lora, w.family, SEQ, BATCH);
  const t0 = performance.now();
  await step(); // warm-up
  log(`  warm-up step: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const times: number[] = [];
  for (let i = 0; i < STEPS; i++) {
    const t = performance.now();
    await step();
    times.push(performance.now() - t);
    log(`  step ${i + 1}/${STEPS}: ${(times.at(-1)! / 1000).toFixed(1)} s`);
  }
  log('  one more step under tf.profile (peak memory)');
  const profile = await tf.profile(async () => {
    await step();
  });
  const heap = (tf.backend() as { wasm?: { HEAPU8?: Uint8Array } }).wasm?.HEAPU8?.buffer.byteLength;
  dispose();
  lora.dispose();
  model.dispose();
  return {
    ms: [...times].sort((p, q) => p - q)[Math.floor(times.length / 2)]!,
    peakMiB: profile.peakBytes / 2 ** 20,
    ...(heap === undefined ? {} : { heapMiB: heap / 2 ** 20 }),
    trainable: count.trainable,
    total: count.total,
  };
}

interface Peft {
  ms: number;
  peak_rss_growth_mib: number;
  trainable: number;
  total: number;
  torch: string;
  peft: string;
  threads: number;
}

function peft(w: Workload): Peft | null {
  const python = process.env['PEFT_PYTHON'] ?? '/tmp/peftenv/bin/python';
  if (!existsSync(python)) return null;
  const script = fileURLToPath(new URL('./peft_hf_text_bench.py', import.meta.url));
  const args = [script, '--model', w.family, '--layers', String(w.layers), '--vocab', String(w.vocab)];
  args.push('--seq', String(SEQ), '--batch', String(BATCH), '--r', String(R), '--steps', String(STEPS));
  const out = execFileSync(python, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return JSON.parse(out.trim().split('\n').pop()!) as Peft;
}

const started = performance.now();
const engines: { name: string; backend: string }[] = [];
if (ENGINES.has('wasm'))
  try {
    await import('@tfjs-lora/backend-wasm');
    await useBackend('wasm');
    engines.push({ name: 'tfjs-lora wasm', backend: 'wasm' });
  } catch (e) {
    log(`wasm skipped: ${(e as Error).message.split('\n')[0]}`);
  }
if (ENGINES.has('native'))
  try {
    const status = await (await import('@tfjs-lora/backend-cuda')).nativeBindingStatus();
    if (status.ok) engines.push({ name: 'tfjs-lora native', backend: 'native' });
    else log(`native skipped: ${status.reason}`);
  } catch (e) {
    log(`native skipped: ${(e as Error).message.split('\n')[0]}`);
  }

for (const w of workloads()) {
  const rows: (string | number)[][] = [];
  log(`PEFT: ${w.name}`);
  const p = peft(w);
  if (p)
    rows.push([
      `PEFT ${p.peft} on PyTorch ${p.torch}, ${p.threads} threads`,
      ms(p.ms),
      '1.00×',
      `${p.peak_rss_growth_mib.toFixed(0)} (RSS growth)`,
      `${p.trainable.toLocaleString('en-US')} / ${p.total.toLocaleString('en-US')}`,
    ]);
  for (const e of engines) {
    log(`${e.name}: ${w.name}`);
    await useBackend(e.backend);
    let o: Ours;
    try {
      o = await ours(w);
    } catch (err) {
      // A step that cannot run (wasm's 4 GB heap, for one) is a result to report, not a crash of the suite.
      const why = (err as Error).message.split('\n')[0]!.slice(0, 160);
      log(`${e.name} failed: ${why}`);
      rows.push([e.name, `fails: ${why}`, '–', '–', '–']);
      continue;
    }
    rows.push([
      e.name,
      ms(o.ms),
      p ? `${(o.ms / p.ms).toFixed(2)}×` : '–',
      `${o.peakMiB.toFixed(0)} (tensors)${o.heapMiB === undefined ? '' : `; heap ${o.heapMiB.toFixed(0)}`}`,
      `${o.trainable.toLocaleString('en-US')} / ${o.total.toLocaleString('en-US')}`,
    ]);
  }
  console.log(`\n**${w.name}**, sequence ${SEQ}, batch ${BATCH}, r=${R}, Adam; median of ${STEPS} timed steps\n`);
  console.log(
    markdownTable(['engine', 'LoRA step ms', 'vs PEFT', 'peak MiB in the step', 'trainable / total'], rows, [
      'l',
      'r',
      'r',
      'r',
      'r',
    ]),
  );
}
console.log(`\nbench total ${((performance.now() - started) / 1000).toFixed(0)} s`);
