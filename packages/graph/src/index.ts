// @tfjs-lora/graph: LoRA for tfjs GraphModels. Importing it registers the GraphModel format (loadPretrained)
// and model kind (applyLora).
import './register-on-import.js';
import './augment.js';

export { LoraGraphModel, type GraphInputs } from './lora-graph-model.js';
export type { GraphFactors } from './adapter-factors.js';
export { registerGraph } from './register.js';
export { graphModelFormat } from './graph-format.js';
export { graphModelKind } from './graph-model-kind.js';
export { UnsupportedGraphError } from './errors.js';
export type { LoraForm } from './custom-op.js';
export { WEIGHT_OPS, modulePath, type GraphTarget, type WeightKind } from './targets.js';
