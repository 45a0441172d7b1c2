// DoRA with hand-written gradients against autodiff of PEFT's formula with the norm detached
// (stopGradient), on cpu: random shapes, ranks 1/4/8, with and without bias, rank-2 and rank-3 input,
// rsLoRA scaling; gradients for x, A, B, the magnitude m and the bias; no leaks. (The PEFT reference
// case dora_linear runs through the same code in peft/peft-cases-load.test.ts.)
import '@tensorflow/tfjs-backend-cpu';
// tfjs-core registers no gradients itself (tfjs-layers and @tensorflow/tfjs import this); tf.grads needs them.
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { maxAbsDiff } from '@tfjs-lora/test-support';
import { scalingFor } from './config.js';
import { doraLinear } from './dora-linear.js';
import { stopGradient } from './math.js';
import { seededValues } from './random.js';

let seed = 500;
const rand = (shape: number[], lo = -1, hi = 1) =>
  tf.tidy(() =>
    tf.add(
      tf.mul(
        tf.add(
          tf.tensor(
            seededValues(
              shape.reduce((a, b) => a * b, 1),
              seed++,
            ),
            shape,
          ),
          1,
        ),
        (hi - lo) / 2,
      ),
      lo,
    ),
  );

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('doraLinear: hand-written gradient vs autodiff with a detached norm (cpu)', () => {
  const cases = [1, 4, 8].flatMap((r, i) => [
    { r, lead: [5 + i], bias: true, rslora: false },
    { r, lead: [2, 3], bias: false, rslora: true },
  ]);
  it.each(cases.map((c) => [JSON.stringify(c), c] as const))('%s', (_n, c) => {
    const before = tf.memory().numTensors;
    const [inF, outF] = [7 + c.r, 6];
    const x = rand([...c.lead, inF]);
    const w = rand([inF, outF]) as tf.Tensor2D;
    const a = rand([inF, c.r]) as tf.Tensor2D;
    const b = rand([c.r, outF]) as tf.Tensor2D;
    const m = rand([outF], 0.5, 2) as tf.Tensor1D;
    const bias = c.bias ? (rand([outF]) as tf.Tensor1D) : undefined;
    const dy = rand([...c.lead, outF]);
    const s = scalingFor(c.r, 2 * c.r, c.rslora);
    const reference = (xi: tf.Tensor, ai: tf.Tensor, bi: tf.Tensor, mi: tf.Tensor, biasi?: tf.Tensor) => {
      const x2 = tf.reshape(xi, [-1, inF]) as tf.Tensor2D;
      const norm = stopGradient(
        tf.norm(tf.add(w, tf.mul(tf.matMul(ai as tf.Tensor2D, bi as tf.Tensor2D), s)), 'euclidean', 0),
      );
      const base = tf.matMul(x2, w);
      const low = tf.mul(tf.matMul(tf.matMul(x2, ai as tf.Tensor2D), bi as tf.Tensor2D), s);
      const mag = tf.div(mi, norm);
      // PEFT: base + (mag − 1)·base + mag·s·low (bias outside the rescaling)
      let y = tf.add(base, tf.add(tf.mul(tf.sub(mag, 1), base), tf.mul(mag, low)));
      if (biasi) y = tf.add(y, biasi);
      return tf.reshape(y, [...c.lead, outF]);
    };
    const ours = (xi: tf.Tensor, ai: tf.Tensor, bi: tf.Tensor, mi: tf.Tensor, biasi?: tf.Tensor) =>
      doraLinear({
        x: xi,
        kernel: w,
        loraA: ai as tf.Tensor2D,
        loraB: bi as tf.Tensor2D,
        magnitude: mi as tf.Tensor1D,
        scaling: s,
        ...(biasi ? { bias: biasi as tf.Tensor1D } : {}),
      });
    const grads = (f: typeof reference) =>
      tf.grads((...t: tf.Tensor[]) => tf.sum(tf.mul(f(t[0]!, t[1]!, t[2]!, t[3]!, t[4]), dy)))(
        bias ? [x, a, b, m, bias] : [x, a, b, m],
      );
    const got = grads(ours);
    const want = grads(reference);
    tf.tidy(() => {
      expect(maxAbsDiff(ours(x, a, b, m, bias), reference(x, a, b, m, bias))).toBeLessThan(1e-5);
    });
    ['x', 'A', 'B', 'magnitude', 'bias'].slice(0, want.length).forEach((name, i) => {
      const scale = tf.tidy(() => Math.max(1, tf.max(tf.abs(want[i]!)).dataSync()[0]!));
      expect(maxAbsDiff(got[i]!, want[i]!) / scale, name).toBeLessThan(2e-5);
    });
    tf.dispose([...got, ...want, x, w, a, b, m, dy, ...(bias ? [bias] : [])]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
