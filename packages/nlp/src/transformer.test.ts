// The transformer builders: causality, LoRA targeting by name and regex, fused = separate q/k/v with
// concatenated kernels, and model.save / loadLayersModel round trips with and without LoRA.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { applyLora, ShapeMismatchError } from '@tfjs-lora/core';
import { maxAbsDiff } from '@tfjs-lora/test-support';
import { transformerBlock, transformerLM, type TransformerConfig } from './transformer.js';
import './register-on-import.js';

const CONFIG: TransformerConfig = { vocabSize: 23, maxLength: 12, width: 16, numHeads: 4, numLayers: 2, seed: 11 };

async function roundTrip(model: tfl.LayersModel): Promise<tfl.LayersModel> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(
      async (a) => ((saved = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }),
    ),
  );
  return tfl.loadLayersModel(tf.io.fromMemory(saved!));
}

describe('transformer builders', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('is causal: changing token j leaves the logits at positions < j unchanged', () => {
    const lm = transformerLM(CONFIG);
    const a = tf.tensor2d([[1, 2, 3, 4, 5, 6]], undefined, 'int32');
    const b = tf.tensor2d([[1, 2, 3, 9, 9, 9]], undefined, 'int32');
    const [ya, yb] = [lm.predict(a) as tf.Tensor, lm.predict(b) as tf.Tensor];
    expect(ya.shape).toEqual([1, 6, 23]);
    const head = (y: tf.Tensor) => tf.slice(y, [0, 0, 0], [1, 3, 23]);
    const tail = (y: tf.Tensor) => tf.slice(y, [0, 3, 0], [1, 3, 23]);
    expect(tf.tidy(() => maxAbsDiff(head(ya), head(yb)))).toBe(0);
    expect(tf.tidy(() => maxAbsDiff(tail(ya), tail(yb)))).toBeGreaterThan(1e-4);
    tf.dispose([a, b, ya, yb]);
    lm.dispose();
  });

  it("lets LoRA target q and v by name or regex, and 'all-linear' skips lm_head", () => {
    const lm = transformerLM(CONFIG);
    const byName = applyLora(lm, { r: 4, targetModules: ['query', 'value'] });
    const paths = ['h.0.attn.query', 'h.0.attn.value', 'h.1.attn.query', 'h.1.attn.value'];
    expect(byName.loraLayers().map((l) => l.path)).toEqual(paths);
    expect(byName.trainableParameters().trainable).toBe(4 * (16 * 4 + 4 * 16));
    const byRegex = applyLora(lm, { r: 4, targetModules: 'h\\.\\d+\\.attn\\.(query|value)' });
    expect(byRegex.loraLayers().map((l) => l.path)).toEqual(paths);
    const all = applyLora(lm, { r: 4, targetModules: 'all-linear' });
    expect(all.loraLayers().map((l) => l.path)).toContain('h.1.mlp.fc_out');
    expect(all.loraLayers().map((l) => l.path)).not.toContain('lm_head');
    [byName, byRegex, all].forEach((m) => m.dispose());
    lm.dispose();
  });

  it('fused qkv with the three kernels concatenated equals separate q, k, v', () => {
    const sep = transformerLM({ ...CONFIG, numLayers: 1 });
    const fused = transformerLM({ ...CONFIG, numLayers: 1, qkv: 'fused' });
    for (const w of sep.weights) {
      const name = w.originalName;
      if (/attn\.(query|key|value)\//.test(name)) continue;
      fused.weights.find((f) => f.originalName === name)!.write(w.read());
    }
    const parts = ['query', 'key', 'value'].map((p) => sep.getLayer(`h.0.attn.${p}`).getWeights());
    const qkv = [
      tf.concat(
        parts.map((p) => p[0]!),
        1,
      ),
      tf.concat(
        parts.map((p) => p[1]!),
        0,
      ),
    ];
    fused.getLayer('h.0.attn.qkv').setWeights(qkv);
    tf.dispose(qkv);
    const ids = tf.tensor2d(
      [
        [3, 1, 4, 1, 5],
        [9, 2, 6, 5, 3],
      ],
      undefined,
      'int32',
    );
    const [ys, yf] = [sep.predict(ids) as tf.Tensor, fused.predict(ids) as tf.Tensor];
    expect(maxAbsDiff(ys, yf)).toBeLessThan(1e-5);
    tf.dispose([ids, ys, yf]);
    [sep, fused].forEach((m) => m.dispose());
  });

  it.each([['separate'], ['fused'], ['merged']] as const)(
    'round-trips through model.save with LoRA (%s qkv)',
    async (mode) => {
      const qkv = mode === 'merged' ? { enableLora: [true, false, true] as [boolean, boolean, boolean] } : mode;
      const base = transformerLM({ ...CONFIG, qkv });
      const targets = mode === 'separate' ? ['wte', 'query', 'value'] : ['wte', 'qkv'];
      const lm = applyLora(base, { r: 2, targetModules: targets, initLoraWeights: false }, { seed: 1 });
      const ids = tf.tensor2d([[1, 2, 3, 4]], undefined, 'int32');
      const loadedBase = await roundTrip(base);
      const loaded = await roundTrip(lm.model);
      const [y0, y0l, y, yl] = [base, loadedBase, lm.model, loaded].map((m) => m.predict(ids) as tf.Tensor);
      expect(maxAbsDiff(y0!, y0l!)).toBe(0);
      expect(maxAbsDiff(y!, yl!)).toBe(0);
      expect(maxAbsDiff(y!, y0!)).toBeGreaterThan(1e-4);
      tf.dispose([ids, y0!, y0l!, y!, yl!]);
      [loadedBase, loaded, lm, base].forEach((m) => m.dispose());
    },
  );

  it('builds post-LN (BERT-style) blocks and refuses sequences longer than the position table', () => {
    const x = tfl.input({ shape: [5, 8] });
    const y = transformerBlock(x, { name: 'layer.0', numHeads: 2, mlpDim: 32, norm: 'post' });
    const m = tfl.model({ inputs: x, outputs: y });
    expect(m.layers.at(-1)!.name).toBe('layer.0.ln_2');
    m.dispose();
    const lm = transformerLM({ ...CONFIG, maxLength: 4 });
    const ids = tf.zeros([1, 5], 'int32');
    expect(() => lm.predict(ids)).toThrow(ShapeMismatchError);
    ids.dispose();
    lm.dispose();
  });
});
