// `tfjs-lora train --model <Hugging Face folder or hf://...> --task text` on @tfjs-lora/nlp's tiny random-weight
// checkpoints (packages/nlp/fixtures/hf), each copied with a WordPiece tokenizer.json of the same 100 ids into a
// temporary folder; hf:// is served by a local server in the Hub's URL layout (no network).
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { applyLora, loadPeftAdapter, loadPretrained, useBackend } from '@tfjs-lora/core';
import { openModelFiles } from '@tfjs-lora/core/pretrained';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startHubServer, type HubServer } from '@tfjs-lora/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIO } from './command.js';
import { hfTextSource, loadHfClassifier } from './hf-text-model.js';
import { runCli } from './run.js';

const HF = join(dirname(createRequire(import.meta.url).resolve('@tfjs-lora/nlp/package.json')), 'fixtures', 'hf');

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIO = { out: (t) => void (out += t), err: (t) => void (err += t) };
  const code = await runCli(argv, { io });
  return { code, out, err };
}

/** A model folder: a fixture's config.json + model.safetensors, and (unless `tokenizer` is false) a tokenizer.json. */
function modelFolder(root: string, fixture: string, tokenizer = true): string {
  const dir = join(root, fixture);
  mkdirSync(dir, { recursive: true });
  for (const f of ['config.json', 'model.safetensors']) copyFileSync(join(HF, fixture, f), join(dir, f));
  if (tokenizer) copyFileSync(join(HF, 'tokenizers', 'wordpiece-small.json'), join(dir, 'tokenizer.json'));
  return dir;
}

const numbers = (re: RegExp, text: string): number[] => {
  const m = re.exec(text);
  expect(m, `${re} in:\n${text}`).not.toBeNull();
  return m!.slice(1).map(Number);
};

async function logits(model: tfl.LayersModel | { predict(x: tf.Tensor[]): unknown }, names: string[]) {
  return tf.tidy(() => {
    const ids = tf.tensor2d([[2, 40, 41, 42, 3, 0]], [1, 6], 'int32');
    const feeds: Record<string, tf.Tensor> = {
      input_ids: ids,
      attention_mask: tf.tensor2d([[1, 1, 1, 1, 1, 0]], [1, 6], 'int32'),
      token_type_ids: tf.zerosLike(ids),
    };
    return model.predict(names.map((n) => feeds[n]!)) as tf.Tensor;
  });
}

describe('tfjs-lora train --model <Hugging Face text model> --task text', () => {
  let root: string;
  let hub: HubServer | undefined;
  beforeAll(async () => {
    await useBackend('cpu');
    root = mkdtempSync(join(tmpdir(), 'tfjs-lora-cli-hf-'));
  });
  afterAll(async () => {
    await hub?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('fine-tunes DistilBERT (3-label head replaced by 2) on SpamAssassin; the loss falls and the adapter reloads', async () => {
    const folder = modelFolder(root, 'distilbert-cls');
    const out = join(root, 'out-distilbert');
    // 16 training e-mails = one batch, so every step sees the same batch and its loss must fall.
    const argv = ['train', '--model', folder, '--task', 'text', '--steps', '8', '--train-size', '16'];
    const r = await run([...argv, '--test-size', '32', '--learning-rate', '0.01', '--backend', 'cpu', '--out', out]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain("the checkpoint's 3-class 'classifier' replaced by a new 2-class one");
    expect(r.out).toMatch(/input_ids, attention_mask from tokenizer\.json, 32 tokens/);
    const [first, last] = numbers(/training loss ([\d.]+) → ([\d.]+)/, r.out);
    expect(last!).toBeLessThan(first! * 0.8);
    const [before, after] = numbers(/held-out accuracy ([\d.]+)% → ([\d.]+)%/, r.out);
    for (const a of [before!, after!]) expect(a).toBeGreaterThanOrEqual(0);
    for (const a of [before!, after!]) expect(a).toBeLessThanOrEqual(100);
    const saved = join(out, 'DistilBertForSequenceClassification-spam-lora-r8');
    const config = JSON.parse(readFileSync(join(saved, 'adapter_config.json'), 'utf8'));
    expect(config.target_modules).toEqual(['q_lin', 'v_lin']);
    expect(config.modules_to_save).toEqual(['classifier']);

    // The adapter loads with core's loadPeftAdapter and applies by name to the 2-class model the CLI builds.
    const adapter = await loadPeftAdapter(saved);
    expect(adapter.config.r).toBe(8);
    expect(adapter.modules.map((m) => m.path).sort()).toEqual([
      'distilbert.transformer.layer.0.attention.q_lin',
      'distilbert.transformer.layer.0.attention.v_lin',
      'distilbert.transformer.layer.1.attention.q_lin',
      'distilbert.transformer.layer.1.attention.v_lin',
    ]);
    expect(adapter.moduleWeights.map((m) => [m.path, m.role, m.params['weight']?.shape])).toEqual([
      ['classifier', 'modules_to_save', [2, 32]],
    ]);
    const classifier = await loadHfClassifier((await hfTextSource(await openModelFiles(folder)))!);
    const lora = applyLora(classifier.model, adapter);
    adapter.dispose();
    expect(lora.loraLayers()).toHaveLength(4);
    const on = await logits(lora, classifier.model.inputNames);
    expect(on.shape).toEqual([1, 2]);
    on.dispose();
    lora.dispose();
    classifier.dispose();
  });

  it('trains BERT from hf://org/name on a local server in the Hub layout, and the adapter applies by name', async () => {
    const folder = modelFolder(root, 'bert-cls');
    hub = await startHubServer((repo, file) =>
      repo.startsWith('tiny/') ? join(root, repo.slice(5), file) : undefined,
    );
    const saved = process.env['HF_ENDPOINT'];
    process.env['HF_ENDPOINT'] = hub.endpoint;
    const out = join(root, 'out-bert');
    const numTensors = tf.memory().numTensors;
    try {
      const r = await run([
        'train',
        '--model',
        'hf://tiny/bert-cls',
        '--task',
        'text',
        '--steps',
        '3',
        '--train-size',
        '16',
        '--test-size',
        '16',
        '--learning-rate',
        '0.01',
        '--backend',
        'cpu',
        '--out',
        out,
      ]);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/input_ids, attention_mask, token_type_ids from tokenizer\.json/);
      expect(r.out).toMatch(/held-out accuracy [\d.]+% → [\d.]+%/);
    } finally {
      if (saved === undefined) delete process.env['HF_ENDPOINT'];
      else process.env['HF_ENDPOINT'] = saved;
    }
    expect(tf.memory().numTensors).toBe(numTensors); // the run leaves no tensor behind

    const model = (await loadPretrained(folder)) as tfl.LayersModel;
    const adapter = await loadPeftAdapter(join(out, 'BertForSequenceClassification-spam-lora-r8'));
    const lora = applyLora(model, adapter);
    adapter.dispose();
    expect(lora.loraLayers().map((l) => l.path)).toEqual([
      'bert.encoder.layer.0.attention.self.query',
      'bert.encoder.layer.0.attention.self.value',
      'bert.encoder.layer.1.attention.self.query',
      'bert.encoder.layer.1.attention.self.value',
    ]);
    const on = await logits(lora, model.inputNames);
    const off = await logits(model, model.inputNames);
    expect(on.shape).toEqual([1, 2]);
    const moved = tf.tidy(() => tf.max(tf.abs(tf.sub(on, off))));
    expect((await moved.data())[0]).toBeGreaterThan(0); // trained factors (B ≠ 0) and head change the logits
    tf.dispose([on, off, moved]);
    lora.dispose();
    model.dispose();
  });

  it('says what to do when the model folder has no tokenizer.json', async () => {
    const folder = modelFolder(join(root, 'no-tokenizer'), 'bert-cls', false);
    const r = await run(['train', '--model', folder, '--task', 'text', '--backend', 'cpu', '--out', root]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/tokenizer\.json; none found in .*save_pretrained\(folder\)/);
    const vision = await run(['train', '--model', folder, '--task', 'vision', '--backend', 'cpu']);
    expect(vision.err).toMatch(/Hugging Face bert text model; it trains on --task text, not 'vision'/);
  });
});
