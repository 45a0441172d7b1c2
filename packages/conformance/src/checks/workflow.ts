// The everyday workflow on the active backend, through core's own calls and nothing else: train with
// core's `train` (losses read asynchronously in groups), save with `savePeftAdapter` (IOHandler) and
// `encodePeftAdapterAsync`, inspect with `inspectPeftAdapter`, load back with `loraModel.loadAdapter` (the
// PEFT load plan). Compared with the same workflow on tfjs's cpu backend; no tensor may be left behind.
// None of these reads synchronously, so the check runs on WebGPU in Node too.
import * as tf from '@tensorflow/tfjs-core';
import { inspectPeftAdapter, loadPeftAdapter, savePeftAdapter, train, type PeftModuleSummary } from '@tfjs-lora/core';
import { encodePeftAdapter, encodePeftAdapterAsync } from '@tfjs-lora/core/peft';
import { expectClose, expectNoLeak, expectTrue, recordComparison } from '../assert.js';
import type { ConformanceTolerances } from '../tolerances.js';
import type { ConformanceCheck } from '../types.js';
import { fixedData, fixedLoraModel, loraValues } from './fixed-model.js';

/** Epochs and batch size of the workflow's training: 4 batches per epoch, 12 Adam steps. */
const EPOCHS = 3;
const BATCH = 8;
const STEPS = 12;

interface WorkflowRun {
  /** Every step's loss as `onBatchEnd` reported it, in order. */
  batchLosses: string[];
  losses: number[];
  epochLosses: number[];
  weights: Float32Array[];
  modules: PeftModuleSummary[];
}

async function workflow(tol: ConformanceTolerances): Promise<WorkflowRun> {
  const start = tf.memory().numTensors;
  const { base, lm } = fixedLoraModel();
  const { x, y } = fixedData();
  const optimizer = tf.train.adam(0.01);
  const batchLosses: string[] = [];
  const losses: number[] = [];
  try {
    const history = await train(
      lm.model,
      { x, y },
      {
        optimizer,
        loss: 'categoricalCrossentropy',
        epochs: EPOCHS,
        batchSize: BATCH,
        lossReadInterval: 3,
        onBatchEnd: ({ epoch, batch, loss }) => {
          batchLosses.push(`${epoch}.${batch}`);
          losses.push(loss);
        },
      },
    );
    const weights = await loraValues(lm);
    let handed = 0;
    const result = await savePeftAdapter(
      lm,
      tf.io.withSaveHandler(async (artifacts) => {
        handed = artifacts.weightData ? 1 : 0;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    const files = await encodePeftAdapterAsync(lm);
    expectTrue(
      handed === 1 && result.saved[0]?.weightBytes === (files.weights as Uint8Array).byteLength,
      `savePeftAdapter to an IOHandler: expected the weights handed over (${(files.weights as Uint8Array).byteLength} bytes); found ${JSON.stringify(result.saved)}`,
    );
    if (tf.getBackend() === 'webgpu' || tf.getBackend() === 'webgl') {
      let refusal = '';
      try {
        encodePeftAdapter(lm);
      } catch (e) {
        refusal = String(e);
      }
      expectTrue(
        /LoraError.*encodePeftAdapterAsync/.test(refusal),
        `encodePeftAdapter (synchronous) on '${tf.getBackend()}': expected a LoraError naming encodePeftAdapterAsync; found ${refusal || 'no error'}`,
      );
    }
    const adapter = await loadPeftAdapter(files);
    let modules: PeftModuleSummary[];
    try {
      modules = (await inspectPeftAdapter(adapter)).modules;
    } finally {
      adapter.dispose();
    }
    await lm.loadAdapter(files, 'loaded');
    const want = lm.model.predict(x) as tf.Tensor;
    lm.setAdapter('loaded');
    const got = lm.model.predict(x) as tf.Tensor;
    try {
      await expectClose(got, want, tol.mergedOutput, 'output of the saved and loaded adapter vs the trained one');
    } finally {
      tf.dispose([got, want]);
    }
    return { batchLosses, losses, epochLosses: history.loss, weights, modules };
  } finally {
    optimizer.dispose();
    lm.dispose();
    base.dispose();
    tf.dispose([x, y]);
    expectNoLeak(start, "train, save, inspect and load (core's calls)");
  }
}

function relative(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(Math.abs(b), 1e-12);
}

/** The workflow check (switches to cpu for the reference run, then back). */
export function workflowChecks(backend: string, tol: ConformanceTolerances): ConformanceCheck[] {
  return [
    {
      name: `workflow: core's train (${STEPS} steps, losses read asynchronously), savePeftAdapter, inspectPeftAdapter, loadAdapter match the cpu backend, no tensor left (GPU: encodePeftAdapter refuses, naming the async form)`,
      async run() {
        const ours = await workflow(tol);
        await tf.setBackend('cpu');
        let reference: WorkflowRun;
        try {
          reference = await workflow(tol);
        } finally {
          await tf.setBackend(backend);
        }
        expectTrue(
          ours.batchLosses.join(' ') === reference.batchLosses.join(' ') && ours.losses.length === STEPS,
          `onBatchEnd: expected ${STEPS} calls in batch order (${reference.batchLosses.join(' ')}); found ${ours.batchLosses.join(' ')}`,
        );
        ours.losses.forEach((l, i) => {
          const rel = relative(l, reference.losses[i]);
          recordComparison(`step ${i + 1} loss (relative)`, rel, tol.trainingLoss);
          expectTrue(
            rel <= tol.trainingLoss,
            `step ${i + 1}: loss ${l} vs cpu ${reference.losses[i]} (relative ${rel})`,
          );
        });
        ours.epochLosses.forEach((l, i) => {
          const rel = relative(l, reference.epochLosses[i]);
          expectTrue(
            rel <= tol.trainingLoss,
            `epoch ${i}: loss ${l} vs cpu ${reference.epochLosses[i]} (relative ${rel})`,
          );
        });
        ours.weights.forEach((w, i) => {
          let diff = 0;
          let scale = 1e-12;
          w.forEach((v, j) => {
            diff = Math.max(diff, Math.abs(v - reference.weights[i][j]));
            scale = Math.max(scale, Math.abs(reference.weights[i][j]));
          });
          recordComparison(`LoRA variable ${i} after ${STEPS} steps (relative)`, diff / scale, tol.trainingWeights);
          expectTrue(diff / scale <= tol.trainingWeights, `LoRA variable ${i}: relative difference ${diff / scale}`);
        });
        expectTrue(
          ours.modules.length === reference.modules.length && ours.modules.length === 2,
          `inspectPeftAdapter: expected 2 modules as on cpu; found ${ours.modules.length}`,
        );
        ours.modules.forEach((m, i) => {
          const ref = reference.modules[i];
          const rel = relative(m.deltaNorm ?? NaN, ref.deltaNorm ?? NaN);
          recordComparison(`${m.path}: ‖ΔW‖ (relative)`, rel, tol.trainingWeights);
          expectTrue(
            m.path === ref.path && m.r === ref.r && m.params === ref.params && rel <= tol.trainingWeights,
            `inspectPeftAdapter ${m.path}: r ${m.r}, params ${m.params}, ‖ΔW‖ ${m.deltaNorm} vs cpu ${ref.path}: r ${ref.r}, params ${ref.params}, ‖ΔW‖ ${ref.deltaNorm}`,
          );
        });
      },
    },
  ];
}
