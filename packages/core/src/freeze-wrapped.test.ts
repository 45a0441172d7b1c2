// Freezing reaches weights that live on a sub-layer: an RNN's cell (LSTM, GRU, SimpleRNN), Bidirectional's
// forward/backward layers, TimeDistributed's inner layer. Only LoRA factors (and the config's bias /
// modulesToSave) may train.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { applyLora } from './apply-lora.js';
import { createTrainStep } from './train-step.js';

type Build = () => tfl.layers.Layer;

// tfjs-layers' default Orthogonal recurrent initializer calls chained tensor methods (`t.flatten()`) that
// only the @tensorflow/tfjs union package registers; these tests use tfjs-core + tfjs-layers alone.
const init = { recurrentInitializer: 'glorotUniform' } as const;

const recurrent: [string, Build][] = [
  ['LSTM', () => tfl.layers.lstm({ name: 'rnn', units: 5, returnSequences: true, ...init })],
  ['GRU', () => tfl.layers.gru({ name: 'rnn', units: 5, returnSequences: true, ...init })],
  ['SimpleRNN', () => tfl.layers.simpleRNN({ name: 'rnn', units: 5, returnSequences: true, ...init })],
  [
    'Bidirectional(LSTM)',
    () =>
      tfl.layers.bidirectional({
        name: 'rnn',
        layer: tfl.layers.lstm({ units: 5, returnSequences: true, ...init }) as tfl.RNN,
        mergeMode: 'concat',
      }),
  ],
  ['TimeDistributed(Dense)', () => tfl.layers.timeDistributed({ name: 'rnn', layer: tfl.layers.dense({ units: 5 }) })],
];

/** [steps=4, features=3] → the wrapped layer → TimeDistributed-free Dense head `head` over the last axis. */
function build(layer: Build): tfl.LayersModel {
  const x = tfl.input({ shape: [4, 3] });
  const h = layer().apply(x) as tfl.SymbolicTensor;
  const y = tfl.layers.dense({ name: 'head', units: 2 }).apply(tfl.layers.flatten().apply(h)) as tfl.SymbolicTensor;
  return tfl.model({ inputs: x, outputs: y });
}

const names = (ws: { originalName: string }[]): string[] => ws.map((w) => w.originalName).sort();

describe('applyLora freezes weights held by sub-layers (RNN cells, wrappers)', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  for (const [label, layer] of recurrent) {
    it(`${label}: only the LoRA factors train; its own weights do not`, async () => {
      const base = build(layer);
      const baseNames = names(base.weights);
      const lm = applyLora(base, { r: 2, targetModules: ['head'] });
      expect(names(lm.model.trainableWeights)).toEqual(['head/lora_A.default', 'head/lora_B.default']);
      // The frozen weights are still in the model (nothing lost), just not trainable.
      for (const n of baseNames) expect(names(lm.model.weights)).toContain(n);
      const fanIn = (base.getLayer('head').getWeights()[0]!.shape[0] as number) ?? 0;
      expect(lm.trainableParameters().trainable).toBe(2 * fanIn + 2 * 2);
      // One optimiser step leaves every frozen weight as it was.
      const before = lm.model.weights.map((w) => w.read().clone());
      const optimizer = tf.train.sgd(0.5);
      const step = createTrainStep(lm, { optimizer, loss: 'meanSquaredError' });
      const xs = tf.randomNormal([3, 4, 3], 0, 1, 'float32', 1);
      const ys = tf.randomNormal([3, 2], 0, 1, 'float32', 2);
      await step(xs, ys);
      lm.model.weights.forEach((w, i) => {
        const changed = tf.tidy(() => tf.max(tf.abs(tf.sub(w.read(), before[i]!))).arraySync() as number);
        if (/lora_B/.test(w.originalName)) expect(changed).toBeGreaterThan(0);
        else if (!/lora_A/.test(w.originalName)) expect(changed, w.originalName).toBe(0);
      });
      tf.dispose([...before, xs, ys]);
      optimizer.dispose();
      lm.dispose();
      base.dispose();
    });

    it(`${label}: bias 'all' unfreezes its biases only, and compile() keeps that`, () => {
      const base = build(layer);
      const lm = applyLora(base, { r: 2, targetModules: ['head'], bias: 'all' });
      lm.model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
      const trainable = names(lm.model.trainableWeights);
      const biases = names(base.weights).filter((n) => /\/bias(_\d+)?$/.test(n) && !n.startsWith('head/'));
      expect(biases.length).toBeGreaterThan(0);
      expect(trainable).toEqual(['head/bias', 'head/lora_A.default', 'head/lora_B.default', ...biases].sort());
      lm.dispose();
      base.dispose();
    });

    it(`${label}: modulesToSave makes all of the wrapped layer's weights train`, () => {
      const base = build(layer);
      const lm = applyLora(base, { r: 2, targetModules: ['head'], modulesToSave: ['rnn'] });
      const own = names(base.weights).filter((n) => !n.startsWith('head/'));
      expect(names(lm.model.trainableWeights)).toEqual(['head/lora_A.default', 'head/lora_B.default', ...own].sort());
      lm.dispose();
      base.dispose();
    });
  }

  it("rebuilding an LSTM with unitForgetBias (Keras's default) leaks nothing", () => {
    // tfjs-layers' unitForgetBias initializer leaves four tensors per build: the base's own build is
    // wrapped in a scope here so that only applyLora's rebuild is measured.
    tf.engine().startScope();
    const base = build(() =>
      tfl.layers.lstm({ name: 'rnn', units: 5, returnSequences: true, unitForgetBias: true, ...init }),
    );
    tf.engine().endScope();
    const before = tf.memory().numTensors;
    const lm = applyLora(base, { r: 2, targetModules: ['head'] });
    expect(lm.model.getLayer('rnn').getConfig()['unitForgetBias']).toBe(true);
    lm.dispose();
    expect(tf.memory().numTensors).toBe(before);
    base.dispose();
  });
});
