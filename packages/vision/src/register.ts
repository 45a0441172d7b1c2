import { registerLayerAdapter, type LayerAdapter } from '@tfjs-lora/core';
import { conv1dAdapter, conv2dAdapter } from './conv-adapter.js';
import { conv2dTransposeAdapter } from './conv-transpose-adapter.js';
import { depthwiseConv2dAdapter } from './depthwise-adapter.js';
import { separableConv2dAdapter } from './separable-adapter.js';

/** The default SeparableConv2D adapter (pointwise part). */
export const separableConv2dPointwiseAdapter: LayerAdapter = separableConv2dAdapter('pointwise');

/** Every adapter this package registers by default. */
export const visionAdapters: readonly LayerAdapter[] = [
  conv2dAdapter,
  conv1dAdapter,
  depthwiseConv2dAdapter,
  separableConv2dPointwiseAdapter,
  conv2dTransposeAdapter,
];

/**
 * Registers the convolution adapters with core (done on import of this package; call it yourself when
 * a bundler drops side effects). Idempotent.
 */
export function registerVisionAdapters(): void {
  for (const adapter of visionAdapters) registerLayerAdapter(adapter);
}
