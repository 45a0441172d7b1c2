// `tfjs-lora convert model.keras out/` and `tfjs-lora train --model`, on @tfjs-lora/keras's fixtures
// (Keras 3.15's own outputs saved beside them).
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '@tfjs-lora/core';
import { loadModelFiles } from '@tfjs-lora/core/node';
import { readSafetensorsFile } from '@tfjs-lora/test-support';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIO } from './command.js';
import { runCli } from './run.js';

const FIXTURES = join(dirname(createRequire(import.meta.url).resolve('@tfjs-lora/keras/package.json')), 'fixtures');

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIO = { out: (t) => void (out += t), err: (t) => void (err += t) };
  const code = await runCli(argv, { io });
  return { code, out, err };
}

describe('tfjs-lora with Keras 3 models', () => {
  let dir: string;
  beforeAll(async () => {
    await useBackend('cpu');
    dir = mkdtempSync(join(tmpdir(), 'tfjs-lora-cli-keras-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("convert model.keras out/ writes a LayersModel folder that tf.loadLayersModel reads with Keras's outputs", async () => {
    for (const name of ['residual', 'recurrent']) {
      const out = join(dir, name);
      const r = await run(['convert', join(FIXTURES, `${name}.keras`), out]);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/wrote tfjs LayersModel .*model\.json/);
      const json = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
      expect(json.format).toBe('layers-model');
      const { model } = await loadModelFiles(out);
      const io = readSafetensorsFile(join(FIXTURES, `${name}.io.safetensors`));
      const inputs = Object.keys(io)
        .filter((k) => k.startsWith('input_'))
        .sort()
        .map((k) => io[k]!);
      const got = model.predict(inputs.length === 1 ? inputs[0]! : inputs) as tf.Tensor | tf.Tensor[];
      const first = Array.isArray(got) ? got[0]! : got;
      const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(first, io['output_0']!))));
      expect((await diff.data())[0]).toBeLessThan(1e-4);
      tf.dispose([diff, ...Object.values(io), ...(Array.isArray(got) ? got : [got])]);
      model.dispose();
    }
    const again = await run(['convert', join(FIXTURES, 'residual.keras'), join(dir, 'residual')]);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/exists already.*--force/);
  });

  it('convert names what tfjs-layers lacks for an unsupported model', async () => {
    const r = await run(['convert', join(FIXTURES, 'unsupported_mha.keras'), join(dir, 'mha')]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/MultiHeadAttention/);
    expect(existsSync(join(dir, 'mha', 'model.json'))).toBe(false);
  });

  it('train --model model.keras: a new head on MNIST rows, LoRA on every Dense, the adapter saved', async () => {
    const out = join(dir, 'runs');
    const r = await run([
      'train',
      '--model',
      join(FIXTURES, 'layer_norm.keras'),
      '--steps',
      '30',
      '--backend',
      'cpu',
      '--out',
      out,
    ]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/task: MNIST digits \(read as 6 rows of 10 values/);
    expect(r.out).toMatch(/LoRA r=8 on 2 layer\(s\) \+ new head 'task_head'/);
    const m = /held-out accuracy ([\d.]+)% \(before training ([\d.]+)%/.exec(r.out);
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThan(Number(m![2]));
    const config = JSON.parse(readFileSync(join(out, 'layer_norm-lora-r8', 'adapter_config.json'), 'utf8'));
    expect(config.modules_to_save).toEqual(['task_head']);
    expect(config.target_modules.sort()).toEqual(['down', 'up']);
  });

  it('train --model on a token model (Embedding + LSTM/GRU): the text task; --head keep on a 3-output model', async () => {
    const text = await run([
      'train',
      '--model',
      join(FIXTURES, 'recurrent.keras'),
      '--steps',
      '5',
      '--rank',
      '2',
      '--backend',
      'cpu',
      '--out',
      join(dir, 'runs'),
    ]);
    expect(text.err).toBe('');
    expect(text.out).toMatch(/task: State of the Union text, 7-character windows as ids below 20/);
    expect(text.out).toMatch(/held-out accuracy/);
    const keep = await run([
      'train',
      '--model',
      join(FIXTURES, 'separable.keras'),
      '--head',
      'keep',
      '--targets',
      'head',
      '--steps',
      '5',
      '--backend',
      'cpu',
      '--out',
      join(dir, 'runs'),
    ]);
    expect(keep.err).toBe('');
    expect(keep.out).toMatch(/digit mod 3: 3 classes/);
    expect(keep.out).toMatch(/LoRA r=8 on 1 layer\(s\):/);
  });

  it('train --model model.json: a tfjs LayersModel (the pretrained MNIST CNN) through the same door', async () => {
    const cnn = join(
      dirname(createRequire(import.meta.url).resolve('@tfjs-lora/vision/package.json')),
      'models',
      'mnist-cnn',
      'model.json',
    );
    // wasm (auto): convolution training on the cpu backend takes minutes.
    const r = await run(['train', '--model', cnn, '--steps', '100', '--rank', '4', '--out', join(dir, 'runs')]);
    expect(r.err).toBe('');
    expect(r.out).toMatch(/task: MNIST digits \(resized to 28×28, 1 channel/);
    const m = /held-out accuracy ([\d.]+)%/.exec(r.out);
    // The CNN was pretrained on MNIST: a new head on its features learns the digits in 100 steps (96% here).
    expect(Number(m![1])).toBeGreaterThan(80);
  }, 240_000);

  it('train --help lists --model and --head; a two-input model is refused with one clear line', async () => {
    const help = await run(['train', '--help']);
    expect(help.out).toContain('--model <path or URL>');
    expect(help.out).toContain('--head <new|keep>');
    const two = await run([
      'train',
      '--model',
      join(FIXTURES, 'residual.keras'),
      '--backend',
      'cpu',
      '--out',
      join(dir, 'runs'),
    ]);
    expect(two.code).toBe(1);
    expect(two.err).toMatch(/^error: train --model needs a model with one input; this one has 2\.\n$/);
  });
});
