// Which tfjs layer a PEFT module path (`distilbert.transformer.layer.0.attention.q_lin`) refers to.
import { LoraConfigError } from '../errors/index.js';
import { closestNames } from '../config/patterns.js';

/**
 * Maps PEFT module paths to tfjs layer paths. A record maps exact PEFT paths; a function gets each PEFT
 * path. A string result names the layer (its dotted path, as in `loraModel.loraLayers()`), `null` skips
 * the module on purpose, `undefined` (or a missing record entry) falls back to the default rule.
 */
export type ModuleMap = Readonly<Record<string, string | null>> | ((peftPath: string) => string | null | undefined);

/** Options for loading a PEFT adapter into a model. */
export interface PeftLoadOptions {
  /** PEFT module path → layer path, for models whose layer names differ from the PyTorch module names. */
  moduleMap?: ModuleMap;
  /**
   * When true (default), an adapter module that matches no layer is an error listing the nearest layer
   * names. With false it is skipped and listed in the load report (`loraModel.peftLoadReport(name).skipped`).
   */
  strict?: boolean;
}

/**
 * The `userDefinedMetadata` key under which a tf.LayersModel lists other names of its modules, for
 * adapters made where the modules were named differently (ViT under transformers 5: `vit.layers.0.attention.q_proj`
 * for the checkpoint's `vit.encoder.layer.0.attention.attention.query`). Model formats set it; it saves
 * with the model (`model.save`) and `applyLora(model, adapter)` uses it with no module map.
 */
export const MODULE_ALIASES_METADATA_KEY = 'peftModuleAliases';

/**
 * Other names of a model's modules: `[pattern, replacement]` pairs (a RegExp source and a `String.replace`
 * replacement). A PEFT module path that names no layer is rewritten by each rule in turn; the first result
 * that is a layer path is used.
 */
export type ModuleAliases = readonly (readonly [pattern: string, replacement: string])[];

/** The model's {@link ModuleAliases} from its metadata (`[]` when it has none). Throws LoraConfigError when malformed. */
export function modelModuleAliases(metadata: unknown): ModuleAliases {
  const aliases = (metadata as Record<string, unknown> | undefined)?.[MODULE_ALIASES_METADATA_KEY];
  if (aliases === undefined) return [];
  const ok =
    Array.isArray(aliases) &&
    aliases.every((a) => Array.isArray(a) && a.length === 2 && a.every((s) => typeof s === 'string'));
  if (!ok)
    throw new LoraConfigError(
      `The model's userDefinedMetadata.${MODULE_ALIASES_METADATA_KEY} must be a list of [pattern, replacement] string pairs; found ${JSON.stringify(aliases).slice(0, 120)}. Fix or remove it.`,
      { field: 'moduleMap' },
    );
  return aliases as ModuleAliases;
}

/** The result of mapping: PEFT path → layer path, and the PEFT paths left out. */
export interface ModuleMapping {
  readonly layers: ReadonlyMap<string, string>;
  readonly skipped: readonly string[];
}

/** The separator-insensitive form used by the default rule: '.', '_' and '/' compare equal. */
export function normalizeModulePath(path: string): string {
  return path.replace(/[._/]/g, '.');
}

/**
 * Maps every PEFT module path to a layer path. Default rule: a layer whose path equals the PEFT path, else
 * the single layer whose path equals it up to separators ('.', '_', '/': `encoder_layer_0_q` matches
 * `encoder.layer.0.q`), else the first of the model's `aliases` whose rewrite is a layer path. A user
 * `moduleMap` is consulted first. Throws LoraConfigError listing each
 * unmatched module with the nearest layer names (unless `strict: false`), a map result that is not a
 * layer, an ambiguous default match, and two modules mapped to one layer.
 */
export function mapPeftModules(
  peftPaths: readonly string[],
  layerPaths: readonly string[],
  options: PeftLoadOptions = {},
  aliases: ModuleAliases = [],
): ModuleMapping {
  const { moduleMap, strict = true } = options;
  const exact = new Set(layerPaths);
  const byNormal = new Map<string, string[]>();
  for (const p of layerPaths) {
    const k = normalizeModulePath(p);
    byNormal.set(k, [...(byNormal.get(k) ?? []), p]);
  }
  const layers = new Map<string, string>();
  const skipped: string[] = [];
  const unmatched: string[] = [];
  for (const peft of peftPaths) {
    let chosen: string | null | undefined =
      typeof moduleMap === 'function'
        ? moduleMap(peft)
        : moduleMap && Object.hasOwn(moduleMap, peft)
          ? moduleMap[peft]
          : undefined;
    if (chosen === null) {
      skipped.push(peft);
      continue;
    }
    if (chosen !== undefined) {
      if (typeof chosen !== 'string' || !exact.has(chosen)) {
        throw new LoraConfigError(
          `moduleMap maps adapter module '${peft}' to ${JSON.stringify(chosen)}, which is not a layer of the model. ` +
            `Nearest layer names: ${closestNames(String(chosen), layerPaths).join(', ') || '(none)'}. Map it to one of the model's layer paths.`,
          { field: 'moduleMap' },
        );
      }
    } else if (exact.has(peft)) {
      chosen = peft;
    } else {
      const candidates = byNormal.get(normalizeModulePath(peft)) ?? [];
      if (candidates.length > 1) {
        throw new LoraConfigError(
          `Adapter module '${peft}' matches several layers up to separators: ${candidates.join(', ')}. Pass moduleMap to pick one.`,
          { field: 'moduleMap' },
        );
      }
      chosen = candidates[0];
      for (const [pattern, replacement] of chosen === undefined ? aliases : []) {
        const re = new RegExp(pattern);
        if (!re.test(peft)) continue;
        const renamed = peft.replace(re, replacement);
        if (exact.has(renamed)) {
          chosen = renamed;
          break;
        }
      }
    }
    if (chosen === undefined) {
      unmatched.push(peft);
      continue;
    }
    const taken = [...layers].find(([, l]) => l === chosen);
    if (taken) {
      throw new LoraConfigError(
        `Adapter modules '${taken[0]}' and '${peft}' both map to layer '${chosen}'; each module needs its own layer. Fix moduleMap.`,
        { field: 'moduleMap' },
      );
    }
    layers.set(peft, chosen);
  }
  if (unmatched.length > 0 && strict) {
    const shown = unmatched.slice(0, 8).map((p) => {
      const near = closestNames(normalizeModulePath(p), layerPaths.map(normalizeModulePath), 3).map(
        (n) => byNormal.get(n)![0],
      );
      return `'${p}' (nearest: ${near.join(', ') || 'none'})`;
    });
    const more = unmatched.length > 8 ? ` and ${unmatched.length - 8} more` : '';
    throw new LoraConfigError(
      `${unmatched.length} adapter module(s) match no layer of the model: ${shown.join('; ')}${more}. ` +
        `Layer paths are tfjs layer names ('outer.inner' in nested models); the default rule matches a PEFT path exactly or ` +
        `up to '.', '_' and '/'. Pass moduleMap (a record or function from PEFT path to layer path), or {strict: false} to skip them.`,
      { field: 'moduleMap' },
    );
  }
  return { layers, skipped: [...skipped, ...unmatched] };
}
