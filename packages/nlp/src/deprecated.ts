// Names from before the "layer kind" vocabulary (0.1). Kept for one minor version; removed in 0.3.
import { dotLast as coreDotLast } from '@tfjs-lora/core';
import { embeddingLayerKind } from './embedding-layer-kind.js';
import { mergedDenseLayerKind } from './merged-dense-layer-kind.js';
import { nlpLayerKinds, registerNlpLayerKinds } from './register.js';

/** @deprecated use {@link embeddingLayerKind}; removed in 0.3 */
export const embeddingAdapter = embeddingLayerKind;
/** @deprecated use {@link mergedDenseLayerKind}; removed in 0.3 */
export const mergedDenseAdapter = mergedDenseLayerKind;
/** @deprecated use {@link nlpLayerKinds}; removed in 0.3 */
export const nlpAdapters = nlpLayerKinds;
/** @deprecated use {@link registerNlpLayerKinds}; removed in 0.3 */
export const registerNlpAdapters = registerNlpLayerKinds;
/** @deprecated use `dotLast` from `@tfjs-lora/core` (its math subpath); removed in 0.3 */
export const dotLast = coreDotLast;
