import { LoraError } from './errors/index.js';
import type { LayerKind } from './layer-kind-types.js';

export type { Layer, FactorInit, FusedLoraArgs, FactorName, LayerKind } from './layer-kind-types.js';

const kinds: LayerKind[] = [];

/**
 * Registers a layer kind. The last registered kind for a class wins, so a package can refine another's;
 * registering the same object twice is a no-op. Core's own kinds (Dense) are registered in
 * `builtin-layer-kinds.ts`.
 */
export function registerLayerKind(kind: LayerKind): void {
  if (kinds.includes(kind)) return;
  kinds.unshift(kind);
}

/** Every registered layer kind, most recently registered first. */
export function listLayerKinds(): readonly LayerKind[] {
  return [...kinds];
}

/** The layer kind for a tfjs class name, or undefined. */
export function findLayerKind(className: string): LayerKind | undefined {
  return kinds.find((k) => k.layerClasses.includes(className));
}

/** The layer kind for a tfjs class name; throws naming the supported classes when none handles it. */
export function requireLayerKind(className: string, where = ''): LayerKind {
  const found = findLayerKind(className);
  if (found) return found;
  const supported = [...new Set(kinds.flatMap((k) => k.layerClasses))].join(', ');
  throw new LoraError(
    `No LoRA layer kind handles '${className}'${where ? ` (layer '${where}')` : ''}. ` +
      `Supported layer classes: ${supported}. Import the package that adds it ` +
      `(@tfjs-lora/vision for convolutions, @tfjs-lora/nlp for Embedding and attention), or remove it from targetModules.`,
  );
}

/** @deprecated use {@link LayerKind}; removed in 0.3 */
export type LayerAdapter = LayerKind;
/** @deprecated use {@link registerLayerKind}; removed in 0.3 */
export const registerLayerAdapter = registerLayerKind;
/** @deprecated use {@link listLayerKinds}; removed in 0.3 */
export const listLayerAdapters = listLayerKinds;
/** @deprecated use {@link findLayerKind}; removed in 0.3 */
export const findLayerAdapter = findLayerKind;
/** @deprecated use {@link requireLayerKind}; removed in 0.3 */
export const requireLayerAdapter = requireLayerKind;
