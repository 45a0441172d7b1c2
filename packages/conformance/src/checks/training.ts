// LoRA training on the active backend against the same training on tfjs's cpu backend: 20 Adam steps
// (model.compile + fit, full batch, no shuffling) from identical weights and data.
import * as tf from '@tensorflow/tfjs-core';
import { expectTrue, recordComparison } from '../assert.js';
import type { ConformanceTolerances } from '../tolerances.js';
import type { ConformanceCheck } from '../types.js';
import { fixedData, fixedLoraModel, loraValues } from './fixed-model.js';

/** Adam steps of the training check. */
export const TRAINING_STEPS = 20;

interface Run {
  losses: number[];
  weights: Float32Array[];
  /** numTensors after each step. */
  counts: number[];
}

async function train(): Promise<Run> {
  const { base, lm } = fixedLoraModel();
  const { x, y } = fixedData();
  const optimizer = tf.train.adam(0.01);
  const counts: number[] = [];
  try {
    lm.model.compile({ optimizer, loss: 'categoricalCrossentropy' });
    const history = await lm.model.fit(x, y, {
      epochs: TRAINING_STEPS,
      batchSize: x.shape[0],
      shuffle: false,
      verbose: 0,
      callbacks: { onEpochEnd: async () => void counts.push(tf.memory().numTensors) },
    });
    return { losses: history.history['loss'] as number[], weights: await loraValues(lm), counts };
  } finally {
    optimizer.dispose();
    lm.dispose();
    base.dispose();
    tf.dispose([x, y]);
  }
}

function relativeMax(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let scale = 1e-12;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / scale;
}

/** The training-equivalence check (switches to cpu for the reference run, then back). */
export function trainingChecks(backend: string, tol: ConformanceTolerances): ConformanceCheck[] {
  return [
    {
      name: `training: ${TRAINING_STEPS} Adam steps match the cpu backend (loss curve and LoRA weights), no tensor growth per step`,
      async run() {
        const ours = await train();
        await tf.setBackend('cpu');
        let reference: Run;
        try {
          reference = await train();
        } finally {
          await tf.setBackend(backend);
        }
        expectTrue(
          ours.losses.length === TRAINING_STEPS,
          `expected ${TRAINING_STEPS} losses, found ${ours.losses.length}`,
        );
        expectTrue(
          reference.losses[TRAINING_STEPS - 1] < reference.losses[0],
          `cpu reference did not learn: loss ${reference.losses[0]} → ${reference.losses[TRAINING_STEPS - 1]}`,
        );
        ours.losses.forEach((l, i) => {
          const rel = Math.abs(l - reference.losses[i]) / Math.abs(reference.losses[i]);
          recordComparison(`step ${i + 1} loss (relative)`, rel, tol.trainingLoss);
          expectTrue(
            rel <= tol.trainingLoss,
            `step ${i + 1}: loss ${l} vs cpu ${reference.losses[i]} (relative ${rel.toExponential(3)} > ${tol.trainingLoss})`,
          );
        });
        ours.weights.forEach((w, i) => {
          const rel = relativeMax(w, reference.weights[i]);
          recordComparison(`LoRA variable ${i} after ${TRAINING_STEPS} steps (relative)`, rel, tol.trainingWeights);
          expectTrue(
            rel <= tol.trainingWeights,
            `LoRA variable ${i} after ${TRAINING_STEPS} steps: max |Δ| / max |w| = ${rel.toExponential(3)} > ${tol.trainingWeights}`,
          );
        });
        const growth = ours.counts[ours.counts.length - 1] - ours.counts[0];
        expectTrue(
          growth === 0,
          `training keeps ${growth} more tensor(s) after step ${TRAINING_STEPS} than after step 1 (a leak per step)`,
        );
      },
    },
  ];
}
