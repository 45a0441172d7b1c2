// The two adapters of real architectures and sizes in @tfjs-lora/test-support's peft-real fixtures (DistilBERT
// q_lin/v_lin + modules_to_save, GPT-2 c_attn with fan_in_fan_out + the SEQ_CLS `score` head), written by PEFT,
// against values PEFT itself computed after loading them with PeftModel.from_pretrained
// (fixtures/peft-real-reference.json; both written by packages/test-support/scripts/generate-fixtures.py).
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { peftRealPath, peftRealReference, type PeftRealReference } from '@tfjs-lora/test-support';
import { applyLora } from '../apply-lora.js';
import type { PeftAdapter } from './adapter.js';
import { inspectPeftAdapter } from './inspect.js';
import { loadPeftAdapter } from './load.js';
import type { ModuleMap } from './module-map.js';
import { savePeftAdapter } from './save.js';

type Ref = PeftRealReference;

const CASES: { name: string; layerName: (peftPath: string) => string; moduleMap?: ModuleMap }[] = [
  // layer names with '_' for '.': found by the default rule
  { name: 'distilbert-emotion-q_v', layerName: (p) => p.replaceAll('.', '_') },
  // other names: mapped by a function
  {
    name: 'gpt2-seqcls-c_attn',
    layerName: (p) => p.replace(/^transformer\.h\.(\d+)\.attn\.c_attn$/, 'block$1_qkv'),
    moduleMap: (p) =>
      /^transformer\.h\.\d+\.attn\.c_attn$/.test(p)
        ? p.replace(/^transformer\.h\.(\d+)\.attn\.c_attn$/, 'block$1_qkv')
        : undefined,
  },
];

/** Same-shaped tfjs Dense layers side by side on one input, kernels zero so that merged kernel = ΔW. */
function sameShapedModel(ref: Ref, layerName: (p: string) => string): tfl.LayersModel {
  const input = tfl.input({ shape: [768] });
  const outputs = [
    ...ref.modules.map((m) =>
      tfl.layers.dense({ name: layerName(m.path), units: m.lora_B[0]!, kernelInitializer: 'zeros' }).apply(input),
    ),
    ...ref.modules_to_save.map((s) =>
      tfl.layers
        .dense({ name: s.path, units: s.weight[0]!, useBias: s.has_bias, kernelInitializer: 'zeros' })
        .apply(input),
    ),
  ] as tfl.SymbolicTensor[];
  return tfl.model({ inputs: input, outputs });
}

describe.each(CASES)('PEFT adapter of a real architecture: $name', ({ name, layerName, moduleMap }) => {
  const dir = peftRealPath(name);
  const ref = peftRealReference(name);
  let adapter: PeftAdapter;
  let tmp: string;

  beforeAll(async () => {
    await tf.setBackend('cpu');
    adapter = await loadPeftAdapter(dir);
    tmp = mkdtempSync(join(tmpdir(), 'tfjs-lora-real-'));
  });
  afterAll(() => {
    adapter.dispose();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('inspects as PEFT sees it: modules, shapes, r, alpha, scaling, parameters, ‖ΔW‖', async () => {
    const s = await inspectPeftAdapter(adapter);
    expect(s.modules.length).toBe(ref.modules.length);
    expect(s.modules.length).toBe(12);
    for (const r of ref.modules) {
      const m = s.modules.find((x) => x.path === r.path)!;
      const module = adapter.modules.find((x) => x.path === r.path)!;
      expect([module.loraA.shape, module.loraB.shape]).toEqual([r.lora_A, r.lora_B]);
      expect({
        kind: m.kind,
        in: m.in,
        out: m.out,
        r: m.r,
        alpha: m.alpha,
        scaling: m.scaling,
        params: m.params,
      }).toEqual({
        kind: 'linear',
        in: r.lora_A[1],
        out: r.lora_B[0],
        r: r.r,
        alpha: r.alpha,
        scaling: r.scaling,
        params: r.params,
      });
      expect(Math.abs(m.deltaNorm! - r.delta_norm) / r.delta_norm, r.path).toBeLessThan(1e-6);
    }
    expect(
      s.moduleWeights
        .filter((w) => w.role === 'modules_to_save')
        .map((w) => w.path)
        .sort(),
    ).toEqual(ref.modules_to_save.map((x) => x.path).sort());
    expect(s.totalParams).toBe(Object.values(adapter.tensors).reduce((n, t) => n + t.size, 0));
  });

  it('merges into same-shaped tfjs Dense layers: ΔW in the right orientation, heads from modules_to_save', () => {
    const base = sameShapedModel(ref, layerName);
    const before = tf.memory().numTensors;
    const lm = applyLora(base, adapter, { moduleMap });
    expect(lm.loraLayers().length).toBe(12);
    expect(lm.peftSource('default')!.paths.get(layerName(ref.modules[0]!.path))).toBe(ref.modules[0]!.path);
    const merged = lm.mergeAndUnload();
    for (const r of ref.modules) {
      const kernel = merged.getLayer(layerName(r.path)).getWeights()[0]!; // [in, out]
      const [inF, outF] = kernel.shape as [number, number];
      const k = kernel.dataSync() as Float32Array;
      const norm = Math.sqrt(k.reduce((acc, v) => acc + v * v, 0));
      expect(Math.abs(norm - r.delta_norm) / r.delta_norm, r.path).toBeLessThan(1e-5);
      for (const [i, j, v] of r.delta_samples) {
        const [row, col] = r.delta_orientation === '[out,in]' ? [j, i] : [i, j];
        expect(row < inF && col < outF).toBe(true);
        expect(k[row * outF + col]!, `${r.path}[${i},${j}]`).toBeCloseTo(v, 6);
      }
    }
    for (const s of ref.modules_to_save) {
      const kernel = merged.getLayer(s.path).getWeights()[0]!;
      const k = kernel.dataSync() as Float32Array;
      expect(Math.sqrt(k.reduce((acc, v) => acc + v * v, 0))).toBeCloseTo(s.weight_norm, 4);
      expect(k[0]).toBeCloseTo(s.weight_00, 6);
    }
    merged.dispose();
    lm.dispose();
    expect(tf.memory().numTensors).toBe(before);
    base.dispose();
  });

  it('saves back the same bytes PEFT wrote', async () => {
    const base = sameShapedModel(ref, layerName);
    const lm = applyLora(base, adapter, { moduleMap });
    await savePeftAdapter(lm, tmp);
    expect(
      readFileSync(join(tmp, 'adapter_model.safetensors')).equals(readFileSync(join(dir, 'adapter_model.safetensors'))),
    ).toBe(true);
    expect(JSON.parse(readFileSync(join(tmp, 'adapter_config.json'), 'utf8'))).toEqual(
      JSON.parse(readFileSync(join(dir, 'adapter_config.json'), 'utf8')),
    );
    lm.dispose();
    base.dispose();
  });
});
