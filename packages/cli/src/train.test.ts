// `tfjs-lora train` argument handling and the progress line. The full run is `npm start` (about 3 minutes),
// which is too long for the test suite; here the command is driven up to its first real work.
import { describe, expect, it } from 'vitest';
import type { CliIO } from './command.js';
import { progressLine } from './progress.js';
import { runCli } from './run.js';

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIO = { out: (t) => void (out += t), err: (t) => void (err += t) };
  const code = await runCli(argv, { io });
  return { code, out, err };
}

describe('tfjs-lora train', () => {
  it('is listed in --help with its options', async () => {
    const { out } = await run(['train', '--help']);
    for (const flag of [
      '--task',
      '--domain',
      '--rank',
      '--alpha',
      '--targets',
      '--epochs',
      '--steps',
      '--train-size',
      '--test-size',
      '--seed',
      '--methods',
      '--backend',
      '--out',
      '--model',
      '--max-length',
      '--learning-rate',
    ])
      expect(out).toContain(flag);
  });

  it('rejects a bad task, rank or backend with one clear line and exit code 1', async () => {
    const bad = await run(['train', '--task', 'audio', '--backend', 'cpu']);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/^error: --task expects vision or text; found 'audio'\.\n$/);
    const rank = await run(['train', '--rank', '0,x', '--backend', 'cpu', '--domain', 'mnist-inverted-rotated']);
    expect(rank.err).toMatch(/--rank expects a positive integer; found '0'/);
    const methods = await run([
      'train',
      '--methods',
      'lora,bogus',
      '--backend',
      'cpu',
      '--domain',
      'mnist-inverted-rotated',
    ]);
    expect(methods.err).toMatch(/--methods expects a list of base, head, lora, full; found 'bogus'/);
    const backend = await run(['train', '--backend', 'nope']);
    expect(backend.code).toBe(1);
    expect(backend.err).toMatch(/--backend expects one of auto, cpu, wasm, webgpu, native; found 'nope'/);
  });
});

describe('progressLine', () => {
  it('redraws in place on a terminal and ends each phase with a summary line', () => {
    let out = '';
    const bar = progressLine({ out: (t) => void (out += t), err: () => undefined }, true);
    bar.start('LoRA r=8', 4);
    for (let i = 1; i <= 4; i++) bar.update(i, `loss ${i}`);
    bar.done('LoRA r=8: accuracy 93.50%');
    expect(out).toContain('\r');
    expect(out).toContain('[############################] 100%');
    expect(out.trimEnd().endsWith('LoRA r=8: accuracy 93.50%')).toBe(true);
  });

  it('prints plain lines (no carriage returns) when not on a terminal', () => {
    let out = '';
    const bar = progressLine({ out: (t) => void (out += t), err: () => undefined }, false);
    bar.start('full fine-tuning', 10);
    bar.update(5, 'loss 0.5');
    bar.done('full fine-tuning: accuracy 93.70%');
    expect(out).not.toContain('\r');
    expect(out).toBe('full fine-tuning: 10 steps\n  full fine-tuning: accuracy 93.70%\n');
  });
});
