// The packages that register the layer kinds some PEFT cases need. They are imported when
// installed; when not, the cases that need them are known gaps that say so.

/** Layer-kind packages the PEFT cases can use: Conv2D (vision), Embedding (nlp). */
export const LAYER_KIND_PACKAGES = ['@tfjs-lora/vision', '@tfjs-lora/nlp'] as const;

/** Short reason for a failed import: "not installed" for a missing package, else the error's first line. */
export function importFailure(name: string, e: unknown): string {
  const err = e as Error & { code?: string };
  const msg = String(err?.message ?? e).split('\n')[0];
  if (err?.code === 'ERR_MODULE_NOT_FOUND' || /Cannot find (package|module)|Failed to (load|resolve)/.test(msg)) {
    return `${name} is not installed as a dependency of @tfjs-lora/conformance`;
  }
  return `${name} could not be imported: ${msg}`;
}

/** Imports every installed adapter package (registering its adapters); returns why the others were not. */
export async function importLayerKindPackages(): Promise<Record<string, string>> {
  const missing: Record<string, string> = {};
  for (const name of LAYER_KIND_PACKAGES) {
    try {
      await import(/* @vite-ignore */ name); // a variable: absent packages must not break bundling
    } catch (e) {
      missing[name] = importFailure(name, e);
    }
  }
  return missing;
}

/** @deprecated use {@link LAYER_KIND_PACKAGES}; removed in 0.3 */
export const ADAPTER_PACKAGES = LAYER_KIND_PACKAGES;
/** @deprecated use {@link importLayerKindPackages}; removed in 0.3 */
export const importAdapterPackages = importLayerKindPackages;
