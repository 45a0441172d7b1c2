// Names from before the "layer kind" vocabulary (0.1). Kept for one minor version; removed in 0.3.
import { conv1dLayerKind, conv2dLayerKind } from './conv-layer-kind.js';
import { conv2dTransposeLayerKind } from './conv-transpose-layer-kind.js';
import { depthwiseConv2dLayerKind } from './depthwise-layer-kind.js';
import { registerVisionLayerKinds, separableConv2dPointwiseLayerKind, visionLayerKinds } from './register.js';
import { separableConv2dLayerKind } from './separable-layer-kind.js';

/** @deprecated use {@link conv2dLayerKind}; removed in 0.3 */
export const conv2dAdapter = conv2dLayerKind;
/** @deprecated use {@link conv1dLayerKind}; removed in 0.3 */
export const conv1dAdapter = conv1dLayerKind;
/** @deprecated use {@link depthwiseConv2dLayerKind}; removed in 0.3 */
export const depthwiseConv2dAdapter = depthwiseConv2dLayerKind;
/** @deprecated use {@link separableConv2dLayerKind}; removed in 0.3 */
export const separableConv2dAdapter = separableConv2dLayerKind;
/** @deprecated use {@link separableConv2dPointwiseLayerKind}; removed in 0.3 */
export const separableConv2dPointwiseAdapter = separableConv2dPointwiseLayerKind;
/** @deprecated use {@link conv2dTransposeLayerKind}; removed in 0.3 */
export const conv2dTransposeAdapter = conv2dTransposeLayerKind;
/** @deprecated use {@link visionLayerKinds}; removed in 0.3 */
export const visionAdapters = visionLayerKinds;
/** @deprecated use {@link registerVisionLayerKinds}; removed in 0.3 */
export const registerVisionAdapters = registerVisionLayerKinds;
