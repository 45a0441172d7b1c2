// Deterministic inputs for the Python interop checks (scripts/write-interop-files.ts writes them,
// scripts/python-interop.py reads them, src/python-interop.test.ts checks both directions).
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { f32ToBf16, f32ToF16 } from '../src/half.js';
import { applyLora } from '../src/apply-lora.js';
import type { LoraModel } from '../src/lora-model.js';
import type { SafetensorsTensorInput } from '../src/safetensors-write.js';

/** Where the interop files live. */
export const INTEROP_DIR = new URL('./interop/', import.meta.url);

/** float32 values that exercise rounding: specials, subnormals, half's limits, ties, and a spread of magnitudes. */
export function interopFloats(): Float32Array {
  const specials = [
    0,
    -0,
    1,
    -1.5,
    0.1,
    1 / 3,
    65504,
    65519.99,
    65520,
    -65536,
    2 ** -14,
    2 ** -24,
    2 ** -25,
    3 * 2 ** -26,
    1 + 2 ** -11,
    1 + 3 * 2 ** -11,
    1 + 2 ** -8,
    1 + 3 * 2 ** -8,
    3.4028235e38,
    -3.4028235e38,
    1.1754944e-38,
    1e-45,
    Infinity,
    -Infinity,
    NaN,
  ];
  const out = new Float32Array(specials.length + 400);
  out.set(specials);
  let s = 12345;
  const bits = new Uint32Array(out.buffer);
  for (let i = specials.length; i < out.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const exp = 90 + (s % 60); // about 2^-37 .. 2^22
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    bits[i] = (((s & 1) << 31) | (exp << 23) | (s >>> 9)) >>> 0;
  }
  return out;
}

/** The tensors of js-written.safetensors: every dtype, edge shapes, names that need escaping. */
export function jsWrittenInputs(): Record<string, SafetensorsTensorInput> {
  const f = interopFloats();
  return {
    'f32.values': { dtype: 'F32', shape: [f.length], data: f },
    'f16.values': { dtype: 'F16', shape: [f.length], data: f32ToF16(f) },
    'bf16.values': { dtype: 'BF16', shape: [f.length], data: f32ToBf16(f) },
    'i64.ids': {
      dtype: 'I64',
      shape: [7],
      data: new BigInt64Array([-(2n ** 40n), -1n, 0n, 1n, 2n ** 40n, 2n ** 63n - 1n, -(2n ** 63n)]),
    },
    'i32.values': { dtype: 'I32', shape: [2, 2], data: new Int32Array([-(2 ** 31), -1, 7, 2 ** 31 - 1]) },
    'u8.values': { dtype: 'U8', shape: [256], data: Uint8Array.from({ length: 256 }, (_, i) => i) },
    'bool.mask': { dtype: 'BOOL', shape: [5], data: new Uint8Array([1, 0, 0, 1, 1]) },
    empty: { dtype: 'F32', shape: [0, 4], data: new Float32Array(0) },
    scalar: { dtype: 'F32', shape: [], data: new Float32Array([2.5]) },
    'matrix.2x3': { dtype: 'F32', shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) },
    'ünïcödé/name "q"\t': { dtype: 'F32', shape: [1], data: new Float32Array([-7]) },
  };
}

/** The base model of the trained-here adapter (PyTorch: fc1 → relu → fc2 → tanh → head). */
export function interopBase(): tfl.LayersModel {
  const m = tfl.sequential({
    layers: [
      tfl.layers.dense({
        name: 'fc1',
        units: 12,
        activation: 'relu',
        inputShape: [6],
        kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }),
        biasInitializer: tfl.initializers.randomNormal({ seed: 2, stddev: 0.1 }),
      }),
      tfl.layers.dense({
        name: 'fc2',
        units: 8,
        activation: 'tanh',
        kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }),
        biasInitializer: tfl.initializers.randomNormal({ seed: 4, stddev: 0.1 }),
      }),
      tfl.layers.dense({
        name: 'head',
        units: 3,
        kernelInitializer: tfl.initializers.glorotUniform({ seed: 5 }),
        biasInitializer: tfl.initializers.randomNormal({ seed: 6, stddev: 0.1 }),
      }),
    ],
  });
  return m;
}

/** The input the interop outputs are computed on. */
export function interopInput(): tf.Tensor {
  return tf.randomNormal([7, 6], 0, 1, 'float32', 11);
}

/**
 * Trains two adapters here: 'default' (r=4, alpha=8 on fc1+fc2, head in modules_to_save) and 'other'
 * (DoRA + rsLoRA, r=2 on fc2), each with Adam on a random regression target.
 */
export async function trainInteropAdapters(base: tfl.LayersModel): Promise<LoraModel> {
  const lm = applyLora(
    base,
    { r: 4, loraAlpha: 8, targetModules: ['fc1', 'fc2'], modulesToSave: ['head'] },
    { seed: 21 },
  );
  lm.addAdapter('other', { r: 2, loraAlpha: 4, useDora: true, useRslora: true, targetModules: ['fc2'] }, { seed: 22 });
  const xs = tf.randomNormal([64, 6], 0, 1, 'float32', 31);
  const ys = tf.randomNormal([64, 3], 0, 1, 'float32', 32);
  for (const name of ['default', 'other']) {
    lm.setAdapter(name);
    lm.model.compile({ optimizer: tf.train.adam(0.05), loss: 'meanSquaredError' });
    await lm.model.fit(xs, ys, { epochs: 15, batchSize: 16, shuffle: false, verbose: 0 });
  }
  lm.setAdapter('default');
  tf.dispose([xs, ys]);
  return lm;
}
