// PiSSA and OLoRA initialisation on the active backend: `await applyLora(...)` works (on GPU backends the
// decomposition reads asynchronously and runs on the cpu backend), the adapted model starts out computing
// the base model's output, the factors match the same initialisation on cpu, the active backend is the
// same afterwards, and nothing leaks.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { applyLora, type InitLoraWeights, type LoraModel } from '@tfjs-lora/core';
import { expectClose, expectNoLeak, expectTrue } from '../assert.js';
import type { ConformanceTolerances } from '../tolerances.js';
import type { ConformanceCheck } from '../types.js';
import { fixedBase, fixedData } from './fixed-model.js';

const MODES = ['pissa', 'pissa_niter_4', 'olora'] as const satisfies readonly InitLoraWeights[];

/** Every model weight (residual kernels, biases, A, B) after the initialisation. */
async function weights(lm: LoraModel): Promise<{ name: string; values: Float32Array; shape: number[] }[]> {
  return Promise.all(
    lm.model.weights.map(async (w) => ({
      name: w.name,
      values: (await w.read().data()) as Float32Array,
      shape: w.shape as number[],
    })),
  );
}

function init(base: tfl.LayersModel, mode: (typeof MODES)[number]): Promise<LoraModel> {
  return applyLora(base, { r: 4, loraAlpha: 8, targetModules: ['hidden', 'head'], initLoraWeights: mode }, { seed: 1 });
}

async function checkInit(tfBackend: string, mode: (typeof MODES)[number], tol: ConformanceTolerances): Promise<void> {
  const { x, y } = fixedData();
  const base = fixedBase();
  const before = tf.memory().numTensors;
  const lm = await init(base, mode);
  try {
    expectTrue(
      tf.getBackend() === tfBackend,
      `the active backend is '${tf.getBackend()}' after init, not '${tfBackend}'`,
    );
    const [yBase, yLora] = [base.predict(x) as tf.Tensor, lm.model.predict(x) as tf.Tensor];
    try {
      await expectClose(yLora, yBase, tol.mergedOutput, `${mode}: output at init vs the base model`);
    } finally {
      tf.dispose([yBase, yLora]);
    }
    const ours = await weights(lm);
    let reference: Awaited<ReturnType<typeof weights>>;
    await tf.setBackend('cpu');
    try {
      const cpuBase = fixedBase();
      const onCpu = await init(cpuBase, mode);
      reference = await weights(onCpu);
      onCpu.dispose();
      cpuBase.dispose();
    } finally {
      await tf.setBackend(tfBackend);
    }
    for (let i = 0; i < ours.length; i++) {
      const a = tf.tensor(ours[i]!.values, ours[i]!.shape);
      const b = tf.tensor(reference[i]!.values, reference[i]!.shape);
      try {
        await expectClose(a, b, tol.mergedOutput, `${mode}: ${ours[i]!.name} vs cpu`, { scaleAbove1: true });
      } finally {
        tf.dispose([a, b]);
      }
    }
  } finally {
    lm.dispose();
  }
  expectNoLeak(before, `${mode}: applyLora + dispose`);
  base.dispose();
  tf.dispose([x, y]);
}

/** PiSSA / OLoRA checks on every backend (`tfBackend` is the tfjs backend under test, restored after the cpu reference). */
export function initChecks(tfBackend: string, tol: ConformanceTolerances): ConformanceCheck[] {
  return MODES.map((mode) => ({
    name: `init: initLoraWeights '${mode}' keeps the base output and matches cpu (awaited applyLora)`,
    run: () => checkInit(tfBackend, mode, tol),
  }));
}
