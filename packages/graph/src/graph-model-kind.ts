// GraphModel as a model kind of core's applyLora / applyPeftAdapter.
import * as tf from '@tensorflow/tfjs-core';
import type { GraphModel } from '@tensorflow/tfjs-converter';
import type { ModelKind } from '@tfjs-lora/core';
import { isGraphModel } from './graph-nodes.js';
import { LoraGraphModel } from './lora-graph-model.js';
import { factorsFromPeft } from './peft-export.js';

/** `applyLora(graphModel, config)` → {@link LoraGraphModel}. Registered on import of `@tfjs-lora/graph`. */
export const graphModelKind: ModelKind<GraphModel, LoraGraphModel> = {
  name: 'graph',
  packageName: '@tfjs-lora/graph',
  matches: isGraphModel,
  applyLora(model, config, options) {
    const lora = new LoraGraphModel(model);
    lora.addAdapter(options.adapterName ?? 'default', config, { seed: options.seed });
    return lora;
  },
  applyPeftAdapter(model, adapter, options) {
    const lora = new LoraGraphModel(model);
    const known = lora.targetableModules.map((t) => t.path);
    const factors = factorsFromPeft(adapter, (p) => lora.target(p), known);
    try {
      lora.addAdapterFactors(options.adapterName ?? 'default', adapter.config, factors);
    } finally {
      for (const f of factors.values()) tf.dispose([f.loraA, f.loraB]);
    }
    return lora;
  },
};
