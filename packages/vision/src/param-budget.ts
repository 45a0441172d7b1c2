import type { Layer } from '@tfjs-lora/core';

const warned = new Set<string>();

/**
 * Warns once per layer and rank (naming both) when a LoRA adapter would have at least as many
 * parameters as the weight it adapts: then it saves nothing over training the weight itself. Depthwise
 * kernels are small (kh·kw·C·M), so this happens at modest ranks (3×3, 32 channels: r ≥ 8).
 */
export function warnIfNotLowRank(
  layer: Layer,
  r: number,
  adapterParams: number,
  weightParams: number,
  what = 'kernel',
): void {
  if (adapterParams < weightParams) return;
  const key = `${layer.name}/${what}/${r}`;
  if (warned.has(key)) return;
  warned.add(key);
  console.warn(
    `tfjs-lora: the LoRA adapter of ${layer.getClassName()} '${layer.name}' at r=${r} has ${adapterParams} parameters, ` +
      `not fewer than the ${weightParams} of its ${what}: it saves nothing. Lower r for this layer (rankPattern) ` +
      `or train the layer fully (modulesToSave) instead.`,
  );
}
