// The CLI on real files: inspect (text and JSON), merge into a saved LayersModel, convert both ways, help on
// every command, one-line errors, and commands registered by other packages.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { readSafetensors } from '@tfjs-lora/core/safetensors';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maxAbsDiff, peftCasePath, peftRealPath, peftRealReference } from '@tfjs-lora/test-support';
import { loadModelFile, saveModelDir } from './model-files.js';
import { registerCommand } from './program.js';
import type { CliIO } from './command.js';
import { runCli } from './run.js';

const LINEAR = peftCasePath('linear');

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIO = { out: (t) => void (out += t), err: (t) => void (err += t) };
  const code = await runCli(argv, { io });
  return { code, out, err };
}

/** The linear PEFT case's base model as a saved tfjs model (Linear [out,in] → Dense [in,out]). */
async function saveLinearBase(dir: string, layerName = 'fc'): Promise<void> {
  const base = readSafetensors(readFileSync(join(LINEAR, 'base.safetensors')));
  const model = tfl.sequential({ layers: [tfl.layers.dense({ name: layerName, units: 32, inputShape: [16] })] });
  const kernel = tf.transpose(base['fc.weight']!);
  model.getLayer(layerName).setWeights([kernel, base['fc.bias']!]);
  await saveModelDir(model, dir);
  tf.dispose([kernel, ...Object.values(base)]);
  model.dispose();
}

describe('tfjs-lora CLI', () => {
  let tmp: string;
  beforeAll(async () => {
    await tf.setBackend('cpu');
    tmp = mkdtempSync(join(tmpdir(), 'tfjs-lora-cli-'));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('has --help on the program and every command', async () => {
    const top = await cli('--help');
    expect(top.code).toBe(0);
    expect(top.out).toMatch(/Usage: tfjs-lora/);
    for (const c of ['inspect', 'merge', 'convert']) expect(top.out).toContain(c);
    for (const c of ['inspect', 'merge', 'convert']) {
      const r = await cli(c, '--help');
      expect(r.code, c).toBe(0);
      expect(r.out).toMatch(new RegExp(`Usage: tfjs-lora ${c}`));
    }
  });

  it('inspect prints the config and one row per module', async () => {
    const r = await cli('inspect', join(LINEAR, 'adapter'));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/r=4 {2}lora_alpha=8/);
    expect(r.out).toMatch(/^fc +linear +16 +32 +4 +8 +2 +192 +\d+\.\d+$/m);
  });

  it('inspect --json gives {config, modules, totalParams} with ‖ΔW‖ as PEFT computed it (real DistilBERT adapter)', async () => {
    const r = await cli('inspect', '--json', peftRealPath('distilbert-emotion-q_v'));
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as {
      config: Record<string, unknown>;
      modules: Record<string, unknown>[];
      totalParams: number;
    };
    expect(j.config['task_type']).toBe('SEQ_CLS');
    expect(j.modules.length).toBe(12);
    expect(Object.keys(j.modules[0]!)).toEqual([
      'path',
      'kind',
      'in',
      'out',
      'r',
      'alpha',
      'scaling',
      'params',
      'deltaNorm',
    ]);
    const ref = peftRealReference('distilbert-emotion-q_v').modules;
    for (const m of ref) {
      const row = j.modules.find((x) => x['path'] === m.path)!;
      expect(Math.abs((row['deltaNorm'] as number) - m.delta_norm) / m.delta_norm).toBeLessThan(1e-6);
    }
    expect(j.totalParams).toBe(12 * 2 * 8 * 768 + 768 * 768 + 768 + 6 * 768 + 6);
  });

  it("merge writes a stock LayersModel that gives PEFT's adapted output", async () => {
    await saveLinearBase(join(tmp, 'base'));
    const r = await cli(
      'merge',
      '--model',
      join(tmp, 'base', 'model.json'),
      '--adapter',
      join(LINEAR, 'adapter'),
      '--out',
      join(tmp, 'merged'),
    );
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/merged 1 LoRA module\(s\) into .*model.json/);
    const merged = await loadModelFile(join(tmp, 'merged', 'model.json'));
    expect(merged.layers.map((l) => l.getClassName())).toEqual(['Dense']);
    const io = readSafetensors(readFileSync(join(LINEAR, 'io.safetensors')));
    const y = merged.predict(io['input']!) as tf.Tensor;
    expect(maxAbsDiff(y, io['output']!)).toBeLessThan(1e-5);
    tf.dispose([y, ...Object.values(io)]);
    merged.dispose();
    const again = await cli(
      'merge',
      '--model',
      join(tmp, 'base', 'model.json'),
      '--adapter',
      join(LINEAR, 'adapter'),
      '--out',
      join(tmp, 'merged'),
    );
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/^error: .*exists already; choose another --out or pass --force/);
  });

  it('merge maps renamed layers with --map, and explains unmatched modules', async () => {
    await saveLinearBase(join(tmp, 'renamed'), 'dense_1');
    const model = join(tmp, 'renamed', 'model.json');
    const fail = await cli('merge', '--model', model, '--adapter', join(LINEAR, 'adapter'), '--out', join(tmp, 'm2'));
    expect(fail.code).toBe(1);
    expect(fail.err.trim().split('\n')).toHaveLength(1);
    expect(fail.err).toMatch(/error: 1 adapter module\(s\) match no layer of the model: 'fc' \(nearest: dense_1\)/);
    writeFileSync(join(tmp, 'map.json'), JSON.stringify({ fc: 'dense_1' }));
    const ok = await cli(
      'merge',
      '--model',
      model,
      '--adapter',
      join(LINEAR, 'adapter'),
      '--out',
      join(tmp, 'm2'),
      '--map',
      join(tmp, 'map.json'),
    );
    expect(ok.code).toBe(0);
  });

  it("convert: directory → single file → directory gives back PEFT's bytes; --dtype bf16 halves the weights", async () => {
    const single = join(tmp, 'linear.safetensors');
    expect((await cli('convert', join(LINEAR, 'adapter'), single)).code).toBe(0);
    expect((await cli('inspect', single)).out).toMatch(/^fc +linear/m);
    const back = join(tmp, 'back');
    expect((await cli('convert', single, back)).code).toBe(0);
    expect(
      readFileSync(join(back, 'adapter_model.safetensors')).equals(
        readFileSync(join(LINEAR, 'adapter', 'adapter_model.safetensors')),
      ),
    ).toBe(true);
    expect(JSON.parse(readFileSync(join(back, 'adapter_config.json'), 'utf8'))).toEqual(
      JSON.parse(readFileSync(join(LINEAR, 'adapter', 'adapter_config.json'), 'utf8')),
    );
    const half = join(tmp, 'half');
    const r = await cli('convert', join(LINEAR, 'adapter'), half, '--dtype', 'bf16');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(statSync(join(half, 'adapter_model.safetensors')).size).toBeLessThan(
      statSync(join(LINEAR, 'adapter', 'adapter_model.safetensors')).size * 0.75,
    );
    const a = JSON.parse((await cli('inspect', '--json', join(LINEAR, 'adapter'))).out).modules[0].deltaNorm as number;
    const b = JSON.parse((await cli('inspect', '--json', half)).out).modules[0].deltaNorm as number;
    expect(Math.abs(a - b) / a).toBeLessThan(1e-2);
    expect((await cli('convert', join(LINEAR, 'adapter'), half)).err).toMatch(/exists already/);
  });

  it('prints one error line and exits non-zero; the stack only with --verbose', async () => {
    const r = await cli('inspect', join(tmp, 'nope'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error: No adapter at '.*nope': the path does not exist\. .*\n$/);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    const v = await cli('inspect', join(tmp, 'nope'), '--verbose');
    expect(v.code).toBe(1);
    expect(v.err).toMatch(/AdapterFormatError: .*\n\s+at /);
    const usage = await cli('merge', '--model', 'x');
    expect(usage.code).not.toBe(0);
    expect(usage.err).toMatch(/required option '--adapter <dir>' not specified/);
    expect((await cli('frobnicate')).err).toMatch(/unknown command 'frobnicate'/);
  });

  it('takes commands that other packages register', async () => {
    registerCommand({
      name: 'distill',
      register(program, ctx) {
        program
          .command('distill')
          .description('distill an adapter (registered by another package)')
          .argument('<data>')
          .action((data: string) => ctx.io.out(`distilling ${data}\n`));
      },
    });
    expect((await cli('--help')).out).toMatch(/distill/);
    expect(await cli('distill', 'x.csv')).toEqual({ code: 0, out: 'distilling x.csv\n', err: '' });
  });
});
