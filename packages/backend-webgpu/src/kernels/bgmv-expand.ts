import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { ShapeMismatchError } from '@tfjs-lora/core';
import { BgmvExpandProgram } from '../programs/bgmv-expand-program.js';

/** tfjs kernel name of the per-row up-projection. */
export const LORA_BGMV_EXPAND = 'LoraBgmvExpand';

/** Inputs of `LoraBgmvExpand`: `out[i] = scalings[a]·t[i]·g[a]` with a = adapterIndex[i]. */
export interface BgmvExpandInputs {
  /** Low-rank rows [m, r]. */
  t: TensorInfo;
  /** Stacked factors [adapters, r, n] (or [adapters, n, r] with transposeG). */
  g: TensorInfo;
  /** Adapter per row [m], int32; negative: zeros. */
  adapterIndex: TensorInfo;
  /** Scaling per adapter [adapters]. */
  scalings: TensorInfo;
}

/** Attributes of `LoraBgmvExpand`. */
export interface BgmvExpandAttrs extends NamedAttrMap {
  /** g is stored [adapters, n, r]. */
  transposeG: boolean;
}

/** Runs the expand program. */
export const bgmvExpand = ({
  inputs,
  backend,
  attrs,
}: {
  inputs: BgmvExpandInputs;
  backend: WebGPUBackend;
  attrs: BgmvExpandAttrs;
}): TensorInfo => {
  const { t, g, adapterIndex, scalings } = inputs;
  const [m, r] = t.shape;
  const gr = attrs.transposeG ? g.shape[2] : g.shape[1];
  const n = attrs.transposeG ? g.shape[1] : g.shape[2];
  if (
    t.shape.length !== 2 ||
    g.shape.length !== 3 ||
    gr !== r ||
    adapterIndex.shape[0] !== m ||
    scalings.shape.length !== 1 ||
    scalings.shape[0] !== g.shape[0]
  ) {
    throw new ShapeMismatchError(
      `LoraBgmvExpand (webgpu): expected t [m, r], g [adapters, r, n] (transposeG ${attrs.transposeG}: [adapters, n, r]), ` +
        `adapterIndex [m] and scalings [adapters]; found t [${t.shape}], g [${g.shape}], adapterIndex [${adapterIndex.shape}], scalings [${scalings.shape}].`,
    );
  }
  if (adapterIndex.dtype !== 'int32')
    throw new ShapeMismatchError(`LoraBgmvExpand (webgpu): adapterIndex must be int32; found ${adapterIndex.dtype}.`);
  return backend.runWebGPUProgram(
    new BgmvExpandProgram(m, n, attrs.transposeG),
    [t, g, adapterIndex, scalings],
    'float32',
  );
};

/** Registration of `LoraBgmvExpand` for the 'webgpu' backend. */
export const bgmvExpandConfig: KernelConfig = {
  kernelName: LORA_BGMV_EXPAND,
  backendName: 'webgpu',
  kernelFunc: bgmvExpand as unknown as KernelFunc,
};
