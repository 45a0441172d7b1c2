// Tensor-leak checks on the active backend: the everyday LoRA operations, repeated, leave
// tf.memory().numTensors where it was; disposing the models returns it to where it started.
import * as tf from '@tensorflow/tfjs-core';
import { expectNoLeak } from '../assert.js';
import type { ConformanceCheck } from '../types.js';
import { fixedData, fixedLoraModel } from './fixed-model.js';

const CYCLES = 5;

async function cycle(lm: ReturnType<typeof fixedLoraModel>['lm'], x: tf.Tensor): Promise<void> {
  const y = lm.model.predict(x) as tf.Tensor;
  await y.data();
  y.dispose();
  const names = new Set(lm.model.trainableWeights.map((v) => v.name));
  const vars = Object.values(tf.engine().registeredVariables).filter((v) => names.has(v.name));
  const { value, grads } = tf.variableGrads(
    () => tf.sum(lm.model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
    vars,
  );
  await value.data();
  tf.dispose([value, ...Object.values(grads)]);
  lm.merge();
  lm.unmerge();
  lm.setAdapter('second');
  lm.setAdapter('default');
  lm.withAdaptersDisabled(() => tf.dispose(lm.model.predict(x) as tf.Tensor));
  lm.mergeAndUnload().dispose();
}

async function leakCheck(): Promise<void> {
  const start = tf.memory().numTensors;
  const { base, lm } = fixedLoraModel();
  const { x, y } = fixedData();
  lm.addAdapter('second', { r: 2, loraAlpha: 4, targetModules: ['hidden'] }, { seed: 5 });
  await cycle(lm, x); // first use builds caches (activation layers, compiled kernels)
  const before = tf.memory().numTensors;
  for (let i = 0; i < CYCLES; i++) await cycle(lm, x);
  expectNoLeak(
    before,
    `${CYCLES} cycles of predict, gradients, merge/unmerge, setAdapter, withAdaptersDisabled, mergeAndUnload`,
  );
  lm.dispose();
  base.dispose();
  tf.dispose([x, y]);
  expectNoLeak(start, 'building, using and disposing a LoRA model');
}

/** The leak checks. */
export function leakChecks(): ConformanceCheck[] {
  return [
    {
      name: `leaks: ${CYCLES} cycles of every LoRA operation, then dispose, leave numTensors unchanged`,
      run: leakCheck,
    },
  ];
}
