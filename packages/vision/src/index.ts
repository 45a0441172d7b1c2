import './register-on-import.js';

export {
  conv2dAdapter,
  conv1dAdapter,
  convDelta,
  convToTorch,
  convFromTorch,
  initConvFactors,
} from './conv-adapter.js';
export { depthwiseConv2dAdapter } from './depthwise-adapter.js';
export { depthwiseDelta } from './depthwise-lora.js';
export { separableConv2dAdapter, useSeparableConv2dPart, type SeparablePart } from './separable-adapter.js';
export { conv2dTransposeAdapter } from './conv-transpose-adapter.js';
export { registerVisionAdapters, visionAdapters, separableConv2dPointwiseAdapter } from './register.js';
export { convGeometry, type ConvGeometry } from './conv-geometry.js';
export { loraConv, loraConvSupports, type LoraConvArgs } from './conv-lora-grad.js';
