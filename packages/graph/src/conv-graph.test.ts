// LoRA on a convolutional GraphModel (fused Conv2D + LeakyRelu, fused depthwise + Relu6, plain 1×1 Conv2D,
// fused MatMul + Prelu) against an independent branch-form reference written with plain tfjs ops:
// outputs and gradients of every factor, merge/unmerge, mergeAndUnload (a plain GraphModel that saves and
// reloads), quantised weights, on cpu and wasm.
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter';
import { applyLora } from '@tfjs-lora/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, tryBackend } from '../test-support/backend.js';
import {
  CONV_MODULES,
  convGraph,
  convReference,
  convWeights,
  type ConvWeights,
  type RefFactors,
} from '../test-support/conv-graph.js';
import './index.js';
import type { LoraGraphModel } from './index.js';

async function maxDiff(a: tf.Tensor, b: tf.Tensor): Promise<number> {
  const d = tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))));
  const v = (await d.data())[0]!;
  d.dispose();
  return v;
}

const refFactors = (lg: LoraGraphModel): Record<string, RefFactors> =>
  Object.fromEntries([...lg.factors()].map(([p, f]) => [p, { loraA: f.loraA, loraB: f.loraB, scaling: f.scaling }]));

for (const backend of BACKENDS)
  for (const form of ['branch', 'merged'] as const)
    describe(`convolutional GraphModel (${backend}, ${form} form)`, () => {
      let why: string | null;
      let w: ConvWeights;
      let graph: GraphModel;
      let lg: LoraGraphModel;
      let x: tf.Tensor4D;

      beforeAll(async () => {
        why = await tryBackend(backend);
        if (why !== null) return console.warn(`skipping ${backend}: ${why}`);
        w = convWeights();
        graph = await convGraph(w);
        x = tf.randomNormal([2, 8, 8, 3], 0, 1, 'float32', 9) as tf.Tensor4D;
        lg = applyLora(
          graph,
          { r: 2, loraAlpha: 3, targetModules: [...CONV_MODULES], initLoraWeights: false },
          { seed: 3 },
        );
      });

      afterAll(() => {
        if (why !== null) return;
        lg.dispose();
        graph.dispose();
        tf.dispose([x, ...Object.values(w)]);
      });

      it('selects the four weight nodes; B = 0 reproduces the graph', async () => {
        if (why !== null) return;
        expect(lg.adaptedModules().sort()).toEqual([...CONV_MODULES].sort());
        const zero = applyLora(graph, { r: 2, targetModules: 'conv1|dw|pw|head' }, { seed: 1 });
        const [y0, base, ref] = [zero.predict(x) as tf.Tensor, graph.predict(x) as tf.Tensor, convReference(x, w, {})];
        expect(await maxDiff(y0, base)).toBeLessThan(1e-6);
        expect(await maxDiff(base, ref)).toBeLessThan(1e-5);
        zero.dispose();
        tf.dispose([y0, base, ref]);
      });

      it('outputs and gradients equal the branch-form reference', async () => {
        if (why !== null) return;
        const before = tf.memory().numTensors;
        const y = lg.predict(x) as tf.Tensor;
        const ref = convReference(x, w, refFactors(lg));
        const base = graph.predict(x) as tf.Tensor;
        expect(await maxDiff(y, ref)).toBeLessThan(1e-5);
        expect(await maxDiff(y, base)).toBeGreaterThan(1e-3);
        const vars = lg.trainableVariables;
        const g = tf.variableGrads(() => tf.sum(tf.square(lg.apply(x) as tf.Tensor)) as tf.Scalar, vars);
        const refGrads = tf.grads((...fs: tf.Tensor[]) => {
          const byPath: Record<string, RefFactors> = {};
          [...lg.factors()].forEach(
            ([p, f], i) => (byPath[p] = { loraA: fs[2 * i]!, loraB: fs[2 * i + 1]!, scaling: f.scaling }),
          );
          return tf.sum(tf.square(convReference(x, w, byPath)));
        })(vars);
        for (const [i, v] of vars.entries()) {
          const gi = g.grads[v.name]!;
          const m = tf.tidy(() => tf.max(tf.abs(refGrads[i]!)));
          const scale = (await m.data())[0]!;
          m.dispose();
          expect(scale).toBeGreaterThan(0);
          expect(await maxDiff(gi, refGrads[i]!), v.name).toBeLessThan(1e-4 * Math.max(1, scale));
        }
        tf.dispose([y, ref, base, g.value, ...Object.values(g.grads), ...refGrads]);
        expect(tf.memory().numTensors).toBe(before);
      });

      it('merge/unmerge and mergeAndUnload give the unmerged outputs; the unloaded model saves and reloads', async () => {
        if (why !== null) return;
        const y = lg.predict(x) as tf.Tensor;
        const base = graph.predict(x) as tf.Tensor;
        const before = tf.memory().numTensors;
        lg.merge();
        const merged = graph.predict(x) as tf.Tensor;
        expect(await maxDiff(merged, y)).toBeLessThan(1e-5);
        lg.unmerge();
        merged.dispose();
        expect(tf.memory().numTensors).toBe(before);
        const back = graph.predict(x) as tf.Tensor;
        expect(await maxDiff(back, base)).toBe(0);
        back.dispose();
        const plain = await lg.mergeAndUnload();
        let saved: tf.io.ModelArtifacts | undefined;
        await plain.save(
          tf.io.withSaveHandler(
            async (a) => ((saved = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }),
          ),
        );
        plain.dispose();
        expect(JSON.stringify(saved!.modelTopology)).not.toMatch(/lora/i);
        const reloaded = await loadGraphModel(tf.io.fromMemory(saved!));
        const yr = reloaded.predict(x) as tf.Tensor;
        expect(await maxDiff(yr, y)).toBeLessThan(1e-5);
        reloaded.dispose();
        tf.dispose([y, base, yr]);
      });

      it.each(['uint8', 'uint16', 'float16'] as const)('%s weights: LoRA on the dequantised weight', async (as) => {
        if (why !== null) return;
        const q = await convGraph(w, { quantize: ['conv1/w', 'pw/w', 'dw/w', 'head/w', 'conv1/b'], as });
        const dq = (k: string) => q.weights[k]![0]!;
        const deq: ConvWeights = {
          ...w,
          'conv1/b': dq('conv1/b'),
          'conv1/w': dq('conv1/w'),
          'pw/w': dq('pw/w'),
          'dw/w': dq('dw/w'),
          'head/w': dq('head/w'),
        };
        const diff = await maxDiff(dq('pw/w'), w['pw/w']!);
        expect(diff).toBeGreaterThan(0); // really quantised
        expect(diff).toBeLessThan(as === 'uint8' ? 1e-2 : 1e-3);
        const lq = applyLora(q, { r: 2, targetModules: [...CONV_MODULES], initLoraWeights: false }, { seed: 4 });
        lq.form = form;
        const [y, ref] = [lq.predict(x) as tf.Tensor, convReference(x, deq, refFactors(lq))];
        expect(await maxDiff(y, ref)).toBeLessThan(1e-5);
        const plain = await lq.mergeAndUnload();
        const ym = plain.predict(x) as tf.Tensor;
        expect(await maxDiff(ym, y)).toBeLessThan(1e-5);
        let specs: tf.io.WeightsManifestEntry[] = [];
        await plain.save(
          tf.io.withSaveHandler(async (art) => {
            specs = art.weightSpecs!;
            return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
          }),
        );
        // Merged weights are float32; the bias nobody adapted keeps its quantisation.
        expect(specs.find((sp) => sp.name === 'pw/w')!.quantization).toBeUndefined();
        expect(specs.find((sp) => sp.name === 'conv1/b')!.quantization?.dtype).toBe(as);
        tf.dispose([y, ref, ym]);
        plain.dispose();
        lq.dispose();
        q.dispose();
      });
    });
