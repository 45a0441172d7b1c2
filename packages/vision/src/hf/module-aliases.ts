// transformers 5 renamed ViT's modules in memory (vit.layers.N.attention.q_proj, mlp.fc1, ...) while
// checkpoints keep transformers 4's keys; PEFT adapters made under 5 carry the new names.
import type { ModuleAliases } from '@tfjs-lora/core/peft';

/**
 * transformers 5's ViT module names → the layer names of the 'hf-vision' model (transformers 4's, as in
 * checkpoints): the inverse of transformers 5.18's checkpoint conversion for ViTModel
 * (`conversion_mapping.py`). Stored in the model's metadata so `applyLora(model, adapter)` maps adapters of
 * either naming with no module map.
 */
export const VIT_TRANSFORMERS5_ALIASES: ModuleAliases = [
  ['(^|\\.)layers\\.(\\d+)\\.attention\\.q_proj$', '$1encoder.layer.$2.attention.attention.query'],
  ['(^|\\.)layers\\.(\\d+)\\.attention\\.k_proj$', '$1encoder.layer.$2.attention.attention.key'],
  ['(^|\\.)layers\\.(\\d+)\\.attention\\.v_proj$', '$1encoder.layer.$2.attention.attention.value'],
  ['(^|\\.)layers\\.(\\d+)\\.attention\\.o_proj$', '$1encoder.layer.$2.attention.output.dense'],
  ['(^|\\.)layers\\.(\\d+)\\.mlp\\.fc1$', '$1encoder.layer.$2.intermediate.dense'],
  ['(^|\\.)layers\\.(\\d+)\\.mlp\\.fc2$', '$1encoder.layer.$2.output.dense'],
  ['(^|\\.)layers\\.(\\d+)\\.', '$1encoder.layer.$2.'],
];
