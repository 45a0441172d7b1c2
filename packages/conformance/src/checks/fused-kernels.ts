// A backend's fused LoRA kernels against core's composed ops on the same backend, forward and
// gradients, on odd shapes. Backends without fused kernels use the composed ops: nothing to compare.
import * as tf from '@tensorflow/tfjs-core';
import { activeKernels } from '@tfjs-lora/core';
import { composedLoraMatMul, composedMultiAdapterMatMul } from '@tfjs-lora/core/math';
import { expectClose, expectNoLeak, seededValues } from '../assert.js';
import type { ConformanceTolerances } from '../tolerances.js';
import type { ConformanceCheck } from '../types.js';

const t2 = (r: number, c: number, seed: number, scale = 1) => tf.tensor2d(seededValues(r * c, seed, scale), [r, c]);

/** Forward and gradients of sum(f(...) ⊙ upstream) for both implementations, compared. */
async function compare(
  inputs: tf.Tensor[],
  upstream: tf.Tensor,
  fused: (...t: tf.Tensor[]) => tf.Tensor,
  composed: (...t: tf.Tensor[]) => tf.Tensor,
  what: string,
  tol: number,
): Promise<void> {
  const before = tf.memory().numTensors;
  const run = (f: (...t: tf.Tensor[]) => tf.Tensor) =>
    tf.tidy(() => [f(...inputs), ...tf.grads((...t: tf.Tensor[]) => tf.sum(tf.mul(f(...t), upstream)))(inputs)]);
  const ours = run(fused);
  const ref = run(composed);
  for (let i = 0; i < ours.length; i++)
    await expectClose(ours[i], ref[i], tol, `${what}: ${i === 0 ? 'output' : `gradient ${i - 1}`}`);
  tf.dispose([...ours, ...ref]);
  expectNoLeak(before, what);
}

/** Checks for the fused kernels the active backend supplies. */
export function fusedKernelChecks(tol: ConformanceTolerances): ConformanceCheck[] {
  const kernels = activeKernels();
  const checks: ConformanceCheck[] = [];
  const { loraMatMul, multiAdapterMatMul } = kernels;
  if (loraMatMul) {
    checks.push({
      name: 'fused loraMatMul equals the composed ops (forward, dx, dA, dB, dbias; 37x53 → 29, r=5)',
      async run() {
        const [x, kernel, a, b, bias, up] = [
          t2(37, 53, 1),
          t2(53, 29, 2, 0.5),
          t2(53, 5, 3, 0.5),
          t2(5, 29, 4, 0.5),
          tf.tensor1d(seededValues(29, 5)),
          t2(37, 29, 6),
        ];
        const call =
          (impl: typeof composedLoraMatMul) =>
          (...t: tf.Tensor[]) =>
            impl({
              x: t[0] as tf.Tensor2D,
              kernel,
              loraA: t[1] as tf.Tensor2D,
              loraB: t[2] as tf.Tensor2D,
              bias: t[3] as tf.Tensor1D,
              scaling: 2.5,
            });
        await compare([x, a, b, bias], up, call(loraMatMul), call(composedLoraMatMul), 'loraMatMul', tol.fusedKernels);
        tf.dispose([x, kernel, a, b, bias, up]);
      },
    });
  }
  if (multiAdapterMatMul) {
    checks.push({
      name: 'fused multiAdapterMatMul equals the composed ops (forward, dx, dA, dB; 23 rows, 3 adapters, some rows without)',
      async run() {
        const x = t2(23, 19, 11);
        const a = tf.tensor3d(seededValues(3 * 19 * 5, 12, 0.5), [3, 19, 5]);
        const b = tf.tensor3d(seededValues(3 * 5 * 27, 13, 0.5), [3, 5, 27]);
        const scalings = tf.tensor1d([0.5, 1.5, 2.5]);
        const adapterIndex = tf.tensor1d(
          Int32Array.from({ length: 23 }, (_, i) => ((i * 7 + 3) % 4) - 1),
          'int32',
        );
        const up = t2(23, 27, 14);
        const call =
          (impl: typeof composedMultiAdapterMatMul) =>
          (...t: tf.Tensor[]) =>
            impl({
              x: t[0] as tf.Tensor2D,
              loraA: t[1] as tf.Tensor3D,
              loraB: t[2] as tf.Tensor3D,
              scalings,
              adapterIndex,
            });
        await compare(
          [x, a, b],
          up,
          call(multiAdapterMatMul),
          call(composedMultiAdapterMatMul),
          'multiAdapterMatMul',
          tol.fusedKernels,
        );
        tf.dispose([x, a, b, scalings, adapterIndex, up]);
      },
    });
  }
  return checks;
}
