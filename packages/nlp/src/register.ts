import * as tf from '@tensorflow/tfjs-core';
import { registerLayerKind, registerPeftWeightLayout, type LayerKind } from '@tfjs-lora/core';
import { ScaledDotProductAttention } from './attention-layer.js';
import { LayerNorm } from './layer-norm.js';
import { MergedDense } from './merged-dense.js';
import { PositionEmbedding } from './position-embedding.js';
import { TokenPooling } from './hf/token-pooling.js';
import { GeluNewAlias } from './hf/gelu-new-alias.js';
import { embeddingLayerKind } from './embedding-layer-kind.js';
import { mergedDenseLayerKind } from './merged-dense-layer-kind.js';

/** Every layer kind this package registers: Embedding and MergedDense (fused q|k|v with per-part LoRA). */
export const nlpLayerKinds: readonly LayerKind[] = [embeddingLayerKind, mergedDenseLayerKind];

/**
 * Registers the Embedding and MergedDense LoRA layer kinds with core, this package's layer classes
 * (`ScaledDotProductAttention`, `PositionEmbedding`, `LayerNorm`, `MergedDense`) with tfjs serialization, and
 * the PyTorch layout of `LayerNorm` and `MergedDense` weights for PEFT files (modules_to_save). Done on import
 * of this package; call it yourself when a bundler drops side effects. Idempotent.
 */
export function registerNlpLayerKinds(): void {
  for (const kind of nlpLayerKinds) registerLayerKind(kind);
  for (const cls of [ScaledDotProductAttention, PositionEmbedding, LayerNorm, MergedDense, TokenPooling])
    tf.serialization.registerClass(cls);
  tf.serialization.registerClass(GeluNewAlias);
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
