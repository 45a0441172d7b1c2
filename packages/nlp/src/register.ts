import * as tf from '@tensorflow/tfjs-core';
import { registerLayerAdapter, registerPeftWeightLayout, type LayerAdapter } from '@tfjs-lora/core';
import { ScaledDotProductAttention } from './attention-layer.js';
import { LayerNorm } from './layer-norm.js';
import { MergedDense } from './merged-dense.js';
import { PositionEmbedding } from './position-embedding.js';
import { embeddingAdapter } from './embedding-adapter.js';
import { mergedDenseAdapter } from './merged-dense-adapter.js';

/** Every layer adapter this package registers: Embedding and MergedDense (fused q|k|v with per-part LoRA). */
export const nlpAdapters: readonly LayerAdapter[] = [embeddingAdapter, mergedDenseAdapter];

/**
 * Registers the Embedding and MergedDense LoRA adapters with core, this package's layer classes
 * (`ScaledDotProductAttention`, `PositionEmbedding`, `LayerNorm`, `MergedDense`) with tfjs serialization, and
 * the PyTorch layout of `LayerNorm` and `MergedDense` weights for PEFT files (modules_to_save). Done on import
 * of this package; call it yourself when a bundler drops side effects. Idempotent.
 */
export function registerNlpAdapters(): void {
  for (const adapter of nlpAdapters) registerLayerAdapter(adapter);
  for (const cls of [ScaledDotProductAttention, PositionEmbedding, LayerNorm, MergedDense])
    tf.serialization.registerClass(cls);
  if (!registered) {
    registerPeftWeightLayout({
      layerClasses: ['LayerNorm'],
      params: { weight: { weight: 'gamma' }, bias: { weight: 'beta' } },
    });
    registerPeftWeightLayout({
      layerClasses: ['MergedDense'],
      params: { weight: { weight: 'kernel', toTfjs: [1, 0] }, bias: { weight: 'bias' } },
    });
    registered = true;
  }
}

let registered = false;
