import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { composedLoraMatMul, customGradLoraMatMul, type LoraMatMulPrimitives } from './kernels.js';
import { ShapeMismatchError } from './errors/index.js';

/** The products from tfjs-core ops: the reference a backend's kernels replace. */
const tfOps: LoraMatMulPrimitives = {
  matMul: (a, b, ta, tb) => tf.matMul(a, b, ta, tb),
  matMulPair: (p, q, p2, q2, o, bias) => {
    const y = tf.add(tf.matMul(p, q, false, o.transposeQ), tf.mul(tf.matMul(p2, q2, false, o.transposeQ2), o.scale2));
    return (bias ? tf.add(y, bias) : y) as tf.Tensor2D;
  },
};

const maxDiff = (a: tf.Tensor, b: tf.Tensor): number => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);

describe('customGradLoraMatMul (the one fused-matmul gradient of the backends)', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  for (const [scaling, withBias] of [
    [1, false],
    [2.5, true],
  ] as const) {
    it(`matches autodiff of the composed form (scaling ${scaling}, bias ${withBias}); no dW; no leak`, () => {
      const before = tf.memory().numTensors;
      tf.tidy(() => {
        const x = tf.randomNormal([5, 6], 0, 1, 'float32', 1) as tf.Tensor2D;
        const kernel = tf.randomNormal([6, 7], 0, 1, 'float32', 2) as tf.Tensor2D;
        const loraA = tf.randomNormal([6, 3], 0, 1, 'float32', 3) as tf.Tensor2D;
        const loraB = tf.randomNormal([3, 7], 0, 1, 'float32', 4) as tf.Tensor2D;
        const bias = withBias ? (tf.randomNormal([7], 0, 1, 'float32', 5) as tf.Tensor1D) : undefined;
        const dy = tf.randomNormal([5, 7], 0, 1, 'float32', 6);
        const inputs = bias ? [x, loraA, loraB, bias] : [x, loraA, loraB];
        const run =
          (f: typeof composedLoraMatMul) =>
          (...t: tf.Tensor[]) =>
            f({
              x: t[0] as tf.Tensor2D,
              kernel,
              loraA: t[1] as tf.Tensor2D,
              loraB: t[2] as tf.Tensor2D,
              scaling,
              ...(bias ? { bias: t[3] as tf.Tensor1D } : {}),
            });
        const fused = run((a) => customGradLoraMatMul(a, tfOps, 'loraMatMul (test)'));
        expect(maxDiff(fused(...inputs), run(composedLoraMatMul)(...inputs))).toBeLessThan(1e-5);
        const ours = tf.grads((...t: tf.Tensor[]) => fused(...t))(inputs, dy);
        const reference = tf.grads((...t: tf.Tensor[]) => run(composedLoraMatMul)(...t))(inputs, dy);
        ours.forEach((g, i) => expect(maxDiff(g, reference[i]!)).toBeLessThan(1e-4));
      });
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('checks shapes, naming the kernel', () => {
    const t = (s: [number, number]) => tf.zeros(s) as tf.Tensor2D;
    const args = { x: t([2, 3]), kernel: t([4, 5]), loraA: t([3, 1]), loraB: t([1, 5]), scaling: 1 };
    expect(() => customGradLoraMatMul(args, tfOps, 'loraMatMul (test)')).toThrow(ShapeMismatchError);
    expect(() => customGradLoraMatMul(args, tfOps, 'loraMatMul (test)')).toThrow(/loraMatMul \(test\)/);
    tf.dispose(Object.values(args).filter((v) => v instanceof tf.Tensor) as tf.Tensor[]);
  });
});
