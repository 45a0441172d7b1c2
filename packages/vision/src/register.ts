import { registerLayerKind, type LayerKind } from '@tfjs-lora/core';
import { conv1dLayerKind, conv2dLayerKind } from './conv-layer-kind.js';
import { conv2dTransposeLayerKind } from './conv-transpose-layer-kind.js';
import { depthwiseConv2dLayerKind } from './depthwise-layer-kind.js';
import { separableConv2dLayerKind } from './separable-layer-kind.js';

/** The default SeparableConv2D layer kind (pointwise part). */
export const separableConv2dPointwiseLayerKind: LayerKind = separableConv2dLayerKind('pointwise');

/** Every layer kind this package registers by default. */
export const visionLayerKinds: readonly LayerKind[] = [
  conv2dLayerKind,
  conv1dLayerKind,
  depthwiseConv2dLayerKind,
  separableConv2dPointwiseLayerKind,
  conv2dTransposeLayerKind,
];

/**
 * Registers the convolution layer kinds with core (done on import of this package; call it yourself when
 * a bundler drops side effects). Idempotent.
 */
export function registerVisionLayerKinds(): void {
  for (const kind of visionLayerKinds) registerLayerKind(kind);
}
