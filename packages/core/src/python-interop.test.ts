// Interop with Python, checked against files the Python side wrote once (scripts/python-interop.py; the
// tfjs side is scripts/write-interop-files.ts). No Python is needed to run this.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { maxAbsDiff } from '@tfjs-lora/test-support';
import { INTEROP_DIR, interopBase, jsWrittenInputs } from '../test-support/interop-data.js';
import { f32ToBf16, f32ToF16 } from './half.js';
import { applyLora } from './apply-lora.js';
import { loadPeftAdapter } from './peft/load.js';
import { savePeftAdapter } from './peft/save.js';
import { findPeftWeightLayout, paramToTfjs } from './peft/weight-layouts.js';
import { parseSafetensors, readSafetensors } from './safetensors.js';
import { encodeSafetensors } from './safetensors-write.js';

const dir = fileURLToPath(INTEROP_DIR);
const json = <T>(name: string): T => JSON.parse(readFileSync(join(dir, name), 'utf8')) as T;
const TORCH_DTYPES: Record<string, string> = {
  F32: 'float32',
  F16: 'float16',
  BF16: 'bfloat16',
  I64: 'int64',
  I32: 'int32',
  U8: 'uint8',
  BOOL: 'bool',
};
const bitsOf = (values: ArrayLike<number>): number[] => Array.from(new Uint32Array(Float32Array.from(values).buffer));

describe('Python interop (committed results of scripts/python-interop.py)', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('tfjs → Python: safetensors written here are read bit-exactly and re-serialised to the same bytes by Python', () => {
    const committed = readFileSync(join(dir, 'js-written.safetensors'));
    expect(Buffer.from(encodeSafetensors(jsWrittenInputs(), { format: 'pt' })).equals(committed)).toBe(true);
    const check = json<{
      metadata: Record<string, string>;
      tensors: Record<string, { dtype: string; shape: number[]; sha256: string }>;
      reserialized_identical: boolean;
      f16_matches_torch_rounding: boolean;
      bf16_matches_torch_rounding: boolean;
    }>('js-written.check.json');
    expect(check.reserialized_identical).toBe(true);
    expect(check.f16_matches_torch_rounding).toBe(true);
    expect(check.bf16_matches_torch_rounding).toBe(true);
    expect(check.metadata).toEqual({ format: 'pt' });
    const parsed = parseSafetensors(committed);
    expect(Object.keys(check.tensors).sort()).toEqual(parsed.tensors.map((t) => t.name).sort());
    for (const t of parsed.tensors) {
      const py = check.tensors[t.name]!;
      expect({ dtype: py.dtype, shape: py.shape }, t.name).toEqual({ dtype: TORCH_DTYPES[t.dtype], shape: t.shape });
      expect(createHash('sha256').update(t.bytes).digest('hex'), t.name).toBe(py.sha256);
    }
  });

  it('Python → tfjs: every dtype Python wrote reads bit-exactly (F16/BF16 widened exactly)', () => {
    const expected =
      json<Record<string, { dtype: string; shape: number[]; float32_bits?: number[]; values?: number[] }>>(
        'py-written.json',
      );
    const before = tf.memory().numTensors;
    const tensors = readSafetensors(readFileSync(join(dir, 'py-written.safetensors')));
    for (const [name, t] of Object.entries(tensors)) {
      const e = expected[name]!;
      expect(t.shape, name).toEqual(e.shape);
      if (e.float32_bits) expect(bitsOf(t.dataSync()), name).toEqual(e.float32_bits);
      else expect(Array.from(t.dataSync()), name).toEqual(e.values);
    }
    expect(Object.keys(tensors).sort()).toEqual(
      Object.keys(expected)
        .filter((k) => k !== 'torch_rounding')
        .sort(),
    );
    tf.dispose(Object.values(tensors));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rounds float32 to F16 and BF16 exactly as torch does (NaN payloads aside)', () => {
    const r = json<{ torch_rounding: { source_bits: number[]; f16_bits: number[]; bf16_bits: number[] } }>(
      'py-written.json',
    ).torch_rounding;
    const src = new Float32Array(new Uint32Array(r.source_bits).buffer);
    const f16 = Array.from(f32ToF16(src));
    const bf16 = Array.from(f32ToBf16(src));
    src.forEach((v, i) => {
      if (Number.isNaN(v)) return;
      expect(f16[i], `f16 of ${v}`).toBe(r.f16_bits[i]);
      expect(bf16[i], `bf16 of ${v}`).toBe(r.bf16_bits[i]);
    });
  });

  it('tfjs → PEFT: adapters trained and saved here load in PEFT, give our outputs, and PEFT re-saves the same bytes', async () => {
    const d = join(dir, 'tfjs-trained');
    const results = json<{
      max_abs_diff_vs_tfjs: Record<string, number>;
      peft_resave: Record<string, { weights_identical: boolean; config_fields_differing: string[] }>;
      peft_layout: string[];
    }>('tfjs-trained/peft-results.json');
    expect(Object.values(results.max_abs_diff_vs_tfjs).every((v) => v < 1e-5)).toBe(true);
    expect(results.peft_resave).toEqual({
      default: { weights_identical: true, config_fields_differing: [] },
      other: { weights_identical: true, config_fields_differing: [] },
    });
    expect(results.peft_layout).toEqual([
      'adapter_config.json',
      'adapter_model.safetensors',
      'other/adapter_config.json',
      'other/adapter_model.safetensors',
    ]);

    // recompute our side now from the committed files, and compare with what PEFT computed
    const torchBase = readSafetensors(readFileSync(join(d, 'base.safetensors')));
    const peft = readSafetensors(readFileSync(join(d, 'peft-results.safetensors')));
    const io = readSafetensors(readFileSync(join(d, 'io.safetensors')));
    const base = interopBase();
    for (const layer of base.layers) {
      const layout = findPeftWeightLayout('Dense')!.params;
      const kernel = paramToTfjs(layout.weight!, torchBase[`${layer.name}.weight`]!);
      layer.setWeights([kernel, torchBase[`${layer.name}.bias`]!]);
      kernel.dispose();
    }
    const before = tf.memory().numTensors;
    const adapter = await loadPeftAdapter(join(d, 'adapter'));
    const lm = applyLora(base, adapter);
    adapter.dispose();
    await lm.loadAdapter(join(d, 'adapter', 'other'), 'other');
    const x = io.input!;
    tf.tidy(() => {
      expect(maxAbsDiff(lm.model.predict(x) as tf.Tensor, peft['output.default']!)).toBeLessThan(1e-5);
      expect(maxAbsDiff(lm.model.predict(x) as tf.Tensor, io['output.default']!)).toBeLessThan(1e-6);
      lm.setAdapter('other');
      expect(maxAbsDiff(lm.model.predict(x) as tf.Tensor, peft['output.other']!)).toBeLessThan(1e-5);
      lm.withAdaptersDisabled(() => {
        expect(maxAbsDiff(lm.model.predict(x) as tf.Tensor, peft['output.base']!)).toBeLessThan(1e-5);
      });
      lm.setAdapter('default');
    });
    const merged = lm.mergeAndUnload();
    for (const layer of merged.layers) {
      tf.tidy(() => {
        expect(
          maxAbsDiff(tf.transpose(layer.getWeights()[0]!), peft[`merged.${layer.name}.weight`]!),
          layer.name,
        ).toBeLessThan(1e-5);
      });
    }
    merged.dispose();
    const tmp = mkdtempSync(join(tmpdir(), 'tfjs-lora-interop-'));
    await savePeftAdapter(lm, tmp);
    for (const rel of ['', 'other']) {
      expect(
        readFileSync(join(tmp, rel, 'adapter_model.safetensors')).equals(
          readFileSync(join(d, 'adapter', rel, 'adapter_model.safetensors')),
        ),
        rel,
      ).toBe(true);
      expect(readFileSync(join(tmp, rel, 'adapter_config.json'), 'utf8')).toBe(
        readFileSync(join(d, 'adapter', rel, 'adapter_config.json'), 'utf8'),
      );
    }
    rmSync(tmp, { recursive: true, force: true });
    lm.dispose();
    expect(tf.memory().numTensors).toBe(before);
    base.dispose();
    tf.dispose([...Object.values(torchBase), ...Object.values(peft), ...Object.values(io)]);
  });
});
