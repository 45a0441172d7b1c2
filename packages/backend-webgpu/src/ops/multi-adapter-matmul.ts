import * as tf from '@tensorflow/tfjs-core';
import { ShapeMismatchError, type MultiAdapterMatMulArgs } from '@tfjs-lora/core';
import { LORA_BGMV_EXPAND } from '../kernels/bgmv-expand.js';
import { LORA_BGMV_SHRINK } from '../kernels/bgmv-shrink.js';

function shrink(x: tf.Tensor, f: tf.Tensor, adapterIndex: tf.Tensor, transposeF: boolean): tf.Tensor2D {
  return tf.engine().runKernel(LORA_BGMV_SHRINK, { x, f, adapterIndex }, { transposeF }) as tf.Tensor2D;
}

function expand(
  t: tf.Tensor,
  g: tf.Tensor,
  adapterIndex: tf.Tensor,
  scalings: tf.Tensor,
  transposeG: boolean,
): tf.Tensor2D {
  return tf.engine().runKernel(LORA_BGMV_EXPAND, { t, g, adapterIndex, scalings }, { transposeG }) as tf.Tensor2D;
}

function checkShapes({ x, loraA, loraB, scalings, adapterIndex }: MultiAdapterMatMulArgs): void {
  const [n, inF] = x.shape;
  const [k, ain, r] = loraA.shape;
  const ok =
    x.rank === 2 &&
    loraA.rank === 3 &&
    loraB.rank === 3 &&
    ain === inF &&
    loraB.shape[0] === k &&
    loraB.shape[1] === r &&
    scalings.rank === 1 &&
    scalings.shape[0] === k &&
    adapterIndex.rank === 1 &&
    adapterIndex.shape[0] === n;
  if (!ok) {
    throw new ShapeMismatchError(
      `multiAdapterMatMul (webgpu): expected x [n, in], loraA [k, in, r], loraB [k, r, out], scalings [k], adapterIndex [n]; found ` +
        `x [${x.shape}], loraA [${loraA.shape}], loraB [${loraB.shape}], scalings [${scalings.shape}], adapterIndex [${adapterIndex.shape}].`,
    );
  }
}

/** Each row's scaling (0 where the row has no adapter), as a column [n, 1]. */
function rowScaling(scalings: tf.Tensor1D, index: tf.Tensor1D): tf.Tensor2D {
  const valid = tf.cast(tf.greaterEqual(index, 0), 'float32');
  return tf.expandDims(tf.mul(tf.gather(scalings, tf.cast(tf.maximum(index, 0), 'int32')), valid), 1) as tf.Tensor2D;
}

/**
 * Per-row multi-adapter LoRA delta on 'webgpu' (SGMV/BGMV style, as in Punica/S-LoRA): row i gets
 * `s[a]·(x[i]·A[a])·B[a]` with a = adapterIndex[i], zeros where a < 0, in two passes (`LoraBgmvShrink`
 * to [n, r], `LoraBgmvExpand` to [n, out]) with no gather of per-row weight copies and no loop over
 * adapters. Differentiable with respect to x, A and B (the input gradient reuses both passes; dA and dB
 * use one masked matmul per adapter); scalings and indices are constants. Equal to core's
 * `composedMultiAdapterMatMul` within float32 rounding.
 */
export function webgpuMultiAdapterMatMul(args: MultiAdapterMatMulArgs): tf.Tensor2D {
  checkShapes(args);
  const f = tf.customGrad((x, a, b, scalings, adapterIndex, save) => {
    const ids = adapterIndex as tf.Tensor1D;
    const index = ids.dtype === 'int32' ? ids : tf.cast(ids, 'int32');
    const t = shrink(x as tf.Tensor, a as tf.Tensor, index, false);
    const value = expand(t, b as tf.Tensor, index, scalings as tf.Tensor, false);
    (save as tf.GradSaveFunc)([x as tf.Tensor, a as tf.Tensor, b as tf.Tensor, t, scalings as tf.Tensor, index]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] => {
      const [xs, as, bs, ts, sc, idx] = saved;
      const g = shrink(dy, bs, idx, true); // dy·B[a]ᵀ  [n, r]
      const dx = expand(g, as, idx, sc, true); // s·g·A[a]ᵀ  [n, in]
      const s = rowScaling(sc as tf.Tensor1D, idx as tf.Tensor1D);
      const gs = tf.mul(g, s);
      const tsScaled = tf.mul(ts, s);
      const dA: tf.Tensor[] = [];
      const dB: tf.Tensor[] = [];
      for (let k = 0; k < as.shape[0]; k++) {
        const mask = tf.expandDims(tf.cast(tf.equal(idx, k), 'float32'), 1);
        dA.push(tf.matMul(xs as tf.Tensor2D, tf.mul(gs, mask) as tf.Tensor2D, true, false));
        dB.push(tf.matMul(tf.mul(tsScaled, mask) as tf.Tensor2D, dy as tf.Tensor2D, true, false));
      }
      // scalings and indices are constants: zero gradients
      return [dx, tf.stack(dA), tf.stack(dB), tf.zerosLike(sc), tf.zeros(idx.shape, 'float32')];
    };
    return { value, gradFunc };
  });
  return f(args.x, args.loraA, args.loraB, args.scalings, args.adapterIndex) as tf.Tensor2D;
}
