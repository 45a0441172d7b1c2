// applyLora's and loadPretrained's return types follow GraphModels once this package is imported.
import type { GraphModel } from '@tensorflow/tfjs-converter';
import type { LoraGraphModel } from './lora-graph-model.js';

declare module '@tfjs-lora/core' {
  interface LoraModelKinds {
    /** tf.GraphModel → LoraGraphModel (`@tfjs-lora/graph`). */
    graph: { model: GraphModel; lora: LoraGraphModel };
  }
  interface PretrainedModels {
    /** tfjs GraphModels (`@tfjs-lora/graph`). */
    graph: GraphModel;
  }
}
