import './register-on-import.js';

export {
  conv2dLayerKind,
  conv1dLayerKind,
  convDelta,
  convToTorch,
  convFromTorch,
  initConvFactors,
} from './conv-layer-kind.js';
export { depthwiseConv2dLayerKind } from './depthwise-layer-kind.js';
export { depthwiseDelta } from './depthwise-lora.js';
export { separableConv2dLayerKind, useSeparableConv2dPart, type SeparablePart } from './separable-layer-kind.js';
export { conv2dTransposeLayerKind } from './conv-transpose-layer-kind.js';
export { registerVisionLayerKinds, visionLayerKinds, separableConv2dPointwiseLayerKind } from './register.js';
export { convGeometry, type ConvGeometry } from './conv-geometry.js';
export { loraConv, loraConvSupports, type LoraConvArgs } from './conv-lora-grad.js';
export {
  conv2dAdapter,
  conv1dAdapter,
  depthwiseConv2dAdapter,
  separableConv2dAdapter,
  separableConv2dPointwiseAdapter,
  conv2dTransposeAdapter,
  visionAdapters,
  registerVisionAdapters,
} from './deprecated.js';
export { hfVisionFormat, registerHfVisionFormat, buildHfVisionModel, type HfVisionOptions } from './hf/format.js';
export { HF_VISION_ARCHITECTURES, type HfVisionArchitecture } from './hf/architectures.js';
export { VIT_TRANSFORMERS5_ALIASES } from './hf/module-aliases.js';
export { VitEmbeddings, VitSelfAttention, FirstToken } from './hf/vit-layers.js';
export { vitAdapterForTransformers5, vitTransformers5Name } from './hf/transformers5-adapter.js';
