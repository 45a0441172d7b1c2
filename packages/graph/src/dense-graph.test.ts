// A GraphModel MLP against the same MLP as a LayersModel under core's LoraModel: the same adapter (moved
// through PEFT's files) gives the same outputs and the same gradients for A and B, on cpu and wasm.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { GraphModel } from '@tensorflow/tfjs-converter';
import { applyLora, type LoraModel } from '@tfjs-lora/core';
import { decodePeftAdapter, encodePeftAdapter } from '@tfjs-lora/core/peft';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, tryBackend } from '../test-support/backend.js';
import { denseTwins } from '../test-support/dense-graph.js';
import { LoraGraphModel } from './index.js';

async function maxDiff(a: tf.Tensor, b: tf.Tensor): Promise<number> {
  const d = tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))));
  const v = (await d.data())[0]!;
  d.dispose();
  return v;
}

for (const backend of BACKENDS)
  for (const form of ['branch', 'merged'] as const)
    describe(`GraphModel MLP vs LayersModel (${backend}, ${form} form)`, () => {
      let why: string | null;
      let layers: tfl.LayersModel;
      let graph: GraphModel;
      let lm: LoraModel;
      let lg: LoraGraphModel;
      let x: tf.Tensor;

      beforeAll(async () => {
        why = await tryBackend(backend);
        if (why !== null) return console.warn(`skipping ${backend}: ${why}`);
        ({ layers, graph } = await denseTwins());
        x = tf.randomNormal([4, 5], 0, 1, 'float32', 11);
        lm = applyLora(
          layers,
          { r: 2, loraAlpha: 4, targetModules: ['dense1', 'dense2'], initLoraWeights: false },
          { seed: 5 },
        );
        const adapter = decodePeftAdapter(encodePeftAdapter(lm));
        lg = applyLora(graph, adapter);
        lg.form = form;
        adapter.dispose();
      });

      afterAll(() => {
        if (why !== null) return;
        lg.dispose();
        lm.dispose();
        layers.dispose();
        graph.dispose();
        x.dispose();
      });

      it('B = 0 and disabled adapters give the GraphModel outputs', async () => {
        if (why !== null) return;
        const base = graph.predict(x) as tf.Tensor;
        const disabled = lg.withAdaptersDisabled(() => lg.predict(x) as tf.Tensor);
        expect(await maxDiff(disabled, base)).toBe(0);
        const zero = applyLora(graph, { r: 2, targetModules: ['dense1', 'dense2'] }, { seed: 1 });
        const y0 = zero.predict(x) as tf.Tensor;
        expect(await maxDiff(y0, base)).toBeLessThan(1e-6);
        const base2 = layers.predict(x) as tf.Tensor;
        expect(await maxDiff(base, base2)).toBeLessThan(1e-5);
        zero.dispose();
        tf.dispose([base, disabled, y0, base2]);
      });

      it('outputs equal the LoraModel outputs with the same adapter', async () => {
        if (why !== null) return;
        const before = tf.memory().numTensors;
        const yg = lg.predict(x) as tf.Tensor;
        const yl = lm.predict(x) as tf.Tensor;
        const base = graph.predict(x) as tf.Tensor;
        expect(await maxDiff(yg, yl)).toBeLessThan(1e-5);
        expect(await maxDiff(yg, base)).toBeGreaterThan(1e-3);
        tf.dispose([yg, yl, base]);
        expect(tf.memory().numTensors).toBe(before);
      });

      it('gradients of A and B equal the LoraModel gradients', async () => {
        if (why !== null) return;
        const loss = (m: { apply(x: tf.Tensor): tf.Tensor | tf.Tensor[] }) => () =>
          tf.sum(tf.square(m.apply(x) as tf.Tensor)) as tf.Scalar;
        const gg = tf.variableGrads(loss(lg), lg.trainableVariables);
        const gl = tf.variableGrads(loss(lm), lm.trainableVariables);
        const graphGrads = lg.trainableVariables.map((v) => gg.grads[v.name]!);
        expect(graphGrads).toHaveLength(4);
        // Pair by layer and factor: names end in <layer>/lora_A.default etc. in both.
        for (const v of lg.trainableVariables) {
          const [, layer, factor] = /lora_graph_\d+\/(\w+)\/(lora_[AB])/.exec(v.name)!;
          const other = lm.trainableVariables.find((w) => w.name.includes(layer!) && w.name.includes(factor!));
          expect(other, `${layer} ${factor} in ${lm.trainableVariables.map((w) => w.name).join(', ')}`).toBeDefined();
          expect(await maxDiff(gg.grads[v.name]!, gl.grads[other!.name]!)).toBeLessThan(1e-4);
          expect(await maxDiff(v, other!)).toBe(0);
        }
        tf.dispose([gg.value, gl.value, ...Object.values(gg.grads), ...Object.values(gl.grads)]);
      });
    });
