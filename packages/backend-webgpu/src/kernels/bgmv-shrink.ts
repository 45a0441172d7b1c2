import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { ShapeMismatchError } from '@tfjs-lora/core';
import { BgmvShrinkProgram } from '../programs/bgmv-shrink-program.js';

/** tfjs kernel name of the per-row down-projection. */
export const LORA_BGMV_SHRINK = 'LoraBgmvShrink';

/** Inputs of `LoraBgmvShrink`: `out[i] = x[i]·f[adapterIndex[i]]`. */
export interface BgmvShrinkInputs {
  /** Rows [m, inner]. */
  x: TensorInfo;
  /** Stacked factors [adapters, inner, r] (or [adapters, r, inner] with transposeF). */
  f: TensorInfo;
  /** Adapter per row [m], int32; negative: zeros. */
  adapterIndex: TensorInfo;
}

/** Attributes of `LoraBgmvShrink`. */
export interface BgmvShrinkAttrs extends NamedAttrMap {
  /** f is stored [adapters, r, inner]. */
  transposeF: boolean;
}

/** Runs the shrink program. */
export const bgmvShrink = ({
  inputs,
  backend,
  attrs,
}: {
  inputs: BgmvShrinkInputs;
  backend: WebGPUBackend;
  attrs: BgmvShrinkAttrs;
}): TensorInfo => {
  const { x, f, adapterIndex } = inputs;
  const [m, inner] = x.shape;
  const fInner = attrs.transposeF ? f.shape[2] : f.shape[1];
  const r = attrs.transposeF ? f.shape[1] : f.shape[2];
  if (
    x.shape.length !== 2 ||
    f.shape.length !== 3 ||
    fInner !== inner ||
    adapterIndex.shape.length !== 1 ||
    adapterIndex.shape[0] !== m
  ) {
    throw new ShapeMismatchError(
      `LoraBgmvShrink (webgpu): expected x [m, inner], f [adapters, inner, r] (transposeF ${attrs.transposeF}: [adapters, r, inner]) ` +
        `and adapterIndex [m]; found x [${x.shape}], f [${f.shape}], adapterIndex [${adapterIndex.shape}].`,
    );
  }
  if (adapterIndex.dtype !== 'int32')
    throw new ShapeMismatchError(`LoraBgmvShrink (webgpu): adapterIndex must be int32; found ${adapterIndex.dtype}.`);
  return backend.runWebGPUProgram(new BgmvShrinkProgram(m, r, attrs.transposeF), [x, f, adapterIndex], 'float32');
};

/** Registration of `LoraBgmvShrink` for the 'webgpu' backend. */
export const bgmvShrinkConfig: KernelConfig = {
  kernelName: LORA_BGMV_SHRINK,
  backendName: 'webgpu',
  kernelFunc: bgmvShrink as unknown as KernelFunc,
};
