// Merge/unmerge exactness on the active backend: the merged model gives the LoRA model's output, and
// unmerge restores every base kernel bit for bit, cycle after cycle; safeMerge refuses NaN updates.
import * as tf from '@tensorflow/tfjs-core';
import { AdapterStateError } from '@tfjs-lora/core';
import { expectClose, expectIdentical, expectNoLeak, expectTrue } from '../assert.js';
import type { ConformanceTolerances } from '../tolerances.js';
import type { ConformanceCheck } from '../types.js';
import { fixedData, fixedLoraModel } from './fixed-model.js';

const CYCLES = 5;

async function mergeUnmerge(tol: ConformanceTolerances): Promise<void> {
  const { base, lm } = fixedLoraModel();
  const { x, y } = fixedData();
  try {
    const kernels = lm.loraLayers().map(({ layer }) => layer.kind.kernel(layer.layer));
    const original = await Promise.all(kernels.map(async (k) => Array.from(await k.read().data())));
    const unmerged = lm.model.predict(x) as tf.Tensor;
    const before = tf.memory().numTensors;
    for (let cycle = 1; cycle <= CYCLES; cycle++) {
      lm.merge();
      const changed = await kernels[0].read().data();
      expectTrue(
        changed.some((v, i) => v !== original[0][i]),
        `cycle ${cycle}: merge() left the first kernel unchanged (ΔW should be non-zero)`,
      );
      const merged = lm.model.predict(x) as tf.Tensor;
      await expectClose(merged, unmerged, tol.mergedOutput, `cycle ${cycle}: merged output vs unmerged LoRA output`);
      merged.dispose();
      lm.unmerge();
      for (let i = 0; i < kernels.length; i++) {
        expectIdentical(await kernels[i].read().data(), original[i], `cycle ${cycle}: kernel ${i} after unmerge()`);
      }
    }
    expectNoLeak(before, `${CYCLES} merge/unmerge cycles`);
    unmerged.dispose();
  } finally {
    lm.dispose();
    base.dispose();
    tf.dispose([x, y]);
  }
}

async function safeMerge(): Promise<void> {
  const { base, lm } = fixedLoraModel();
  try {
    const { layer } = lm.loraLayers()[0];
    const kernel = layer.kind.kernel(layer.layer);
    const original = Array.from(await kernel.read().data());
    await lm.merge({ safeMerge: true });
    lm.unmerge();
    const b = layer.weightsOf('default').loraB;
    tf.tidy(() => {
      b.write(tf.fill(b.shape as number[], NaN));
    });
    let thrown: unknown = null;
    try {
      await lm.merge({ safeMerge: true });
    } catch (e) {
      thrown = e;
    }
    expectTrue(
      AdapterStateError.isInstance(thrown),
      `merge({safeMerge: true}) with a NaN adapter should throw AdapterStateError; got ${String(thrown)}`,
    );
    expectIdentical(await kernel.read().data(), original, 'kernel after a refused safeMerge');
  } finally {
    lm.dispose();
    base.dispose();
  }
}

/** Merge checks, on every backend (`merge({safeMerge: true})` reads asynchronously). */
export function mergeChecks(tol: ConformanceTolerances): ConformanceCheck[] {
  return [
    {
      name: `merge/unmerge: merged output equals the LoRA output, unmerge restores W bit-exactly (${CYCLES} cycles, no leak)`,
      run: () => mergeUnmerge(tol),
    },
    { name: 'merge/unmerge: safeMerge refuses a NaN adapter and leaves W unchanged', run: safeMerge },
  ];
}
