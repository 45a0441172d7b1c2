// Which layers a config selects: its selectors applied to a model's layers (PEFT's
// check_target_module_exists), with errors that list the layers that exist.
import { LoraConfigError } from '../errors/index.js';
import {
  cachedRegExp,
  closestNames,
  isAllLinear,
  matchesModuleToSave,
  matchesSelector,
  pythonRegexSource,
  regexError,
} from './patterns.js';
import type { LoraConfig, ModuleSelector } from './schema.js';

/**
 * A layer as seen for target selection: its dotted path in the model (top-level layers: their name;
 * layers of a nested LayersModel: 'outer.inner'), tfjs class name, and whether its output is a model output.
 */
export interface LayerInfo {
  path: string;
  className: string;
  isOutput: boolean;
}

/**
 * The layer index used by `layersToTransform`. A path is split into components at '.', '_' and '/'
 * (tfjs names use '_' where PyTorch paths use '.': 'block_3_expand', 'encoder.layer.2.q'). With a
 * `layersPattern` (regexes tried in order, each matching whole components) the index is the first
 * all-digit component directly after a match of the pattern; with no pattern (null, '' or []) it is the
 * first all-digit component that is not the path's first component. Returns null when there is none.
 */
export function layerIndexOf(path: string, layersPattern: string | readonly string[] | null): number | null {
  const patterns = (typeof layersPattern === 'string' ? [layersPattern] : (layersPattern ?? [])).filter(
    (p) => p !== '',
  );
  if (patterns.length === 0) {
    const parts = path.split(/[._/]/);
    for (let i = 1; i < parts.length; i++) if (/^\d+$/.test(parts[i]!)) return Number(parts[i]);
    return null;
  }
  for (const pattern of patterns) {
    const problem = regexError(pattern);
    if (problem !== null) {
      throw new LoraConfigError(
        `LoraConfig.layersPattern entry ${JSON.stringify(pattern)} is not a valid regular expression (${problem}). ` +
          'Pass the name of the component that precedes the layer number, e.g. "layer" or "block".',
        { field: 'layersPattern' },
      );
    }
    const m = cachedRegExp(`(?:^|[._/])(?:${pythonRegexSource(pattern)})[._/](\\d+)(?=[._/]|$)`).exec(path);
    if (m !== null) return Number(m[1]);
  }
  return null;
}

const MAX_LISTED = 40;
function listLayers(layers: readonly LayerInfo[]): string {
  if (layers.length === 0) return '(the model has no layers)';
  const shown = layers.slice(0, MAX_LISTED).map((l) => `${l.path} (${l.className}${l.isOutput ? ', output' : ''})`);
  const more = layers.length > MAX_LISTED ? `, … and ${layers.length - MAX_LISTED} more` : '';
  return shown.join(', ') + more;
}

function showSelector(selector: ModuleSelector): string {
  return selector instanceof RegExp ? String(selector) : JSON.stringify(selector);
}

function noMatchError(target: ModuleSelector, layers: readonly LayerInfo[]): LoraConfigError {
  const paths = layers.map((l) => l.path);
  let what: string;
  let hint: string;
  if (isAllLinear(target)) {
    what = `'all-linear' selects every Dense layer that is not a model output, and this model has none`;
    hint = 'Name the layers to adapt instead, e.g. targetModules: ["<layer name>"].';
  } else {
    const names = typeof target === 'string' || target instanceof RegExp ? [showSelector(target)] : target;
    const near = names.map((t) => `${JSON.stringify(t)} → ${closestNames(t, paths).join(', ') || '(none)'}`);
    what = `LoraConfig.targetModules ${showSelector(target)} matched none of the model's ${layers.length} layers`;
    hint =
      `Closest layer names: ${near.join('; ')}. List entries match a layer path exactly or as a dotted suffix ` +
      `("q" matches "encoder.q", not "block_q"); a string is a regex that must match the whole path. ` +
      'Set targetModules to names from the list above.';
  }
  return new LoraConfigError(`${what}. Layers (path (class)): ${listLayers(layers)}. ${hint}`, {
    field: 'targetModules',
  });
}

function emptiedError(field: string, why: string, removed: readonly LayerInfo[]): LoraConfigError {
  return new LoraConfigError(
    `No layer is left to adapt: targetModules matched ${removed.map((l) => l.path).join(', ')}, ` +
      `but ${why}. Relax LoraConfig.${field} or change targetModules.`,
    { field },
  );
}

function isTarget(target: ModuleSelector, layer: LayerInfo): boolean {
  if (isAllLinear(target)) return layer.className === 'Dense' && !layer.isOutput;
  return matchesSelector(target, layer.path);
}

/**
 * PEFT's `check_target_module_exists` adapted: `targetModules` (or 'all-linear' = every 'Dense' layer
 * that is not an output layer), minus `excludeModules` and minus layers in (or inside) `modulesToSave`
 * (PEFT never adapts those), filtered by `layersToTransform`/`layersPattern` (see {@link layerIndexOf};
 * unlike PEFT, the filter also applies to exact-name matches). Returns the matched LayerInfos in model
 * order. Throws LoraConfigError when `targetModules` is null, matches nothing (the message lists the
 * model's layers and the names closest to each target), or when the later filters leave nothing.
 */
export function selectTargets(config: LoraConfig, layers: readonly LayerInfo[]): LayerInfo[] {
  const target = config.targetModules;
  if (target === null) {
    throw new LoraConfigError(
      `LoraConfig.targetModules is null, so no layer is selected for LoRA. Layers (path (class)): ${listLayers(layers)}. ` +
        `Set targetModules to 'all-linear', a list of layer names, or a regex string matching whole layer paths.`,
      { field: 'targetModules' },
    );
  }
  const matched = layers.filter((l) => isTarget(target, l));
  if (matched.length === 0) throw noMatchError(target, layers);

  const exclude = config.excludeModules;
  const kept = exclude === null ? matched : matched.filter((l) => !matchesSelector(exclude, l.path));
  if (kept.length === 0) {
    throw emptiedError('excludeModules', `excludeModules ${showSelector(exclude!)} excludes all of them`, matched);
  }

  const saved = config.modulesToSave ?? [];
  const notSaved = kept.filter((l) => !saved.some((m) => matchesModuleToSave(m, l.path)));
  if (notSaved.length === 0) {
    throw emptiedError('modulesToSave', `all of them are in modulesToSave ${JSON.stringify(saved)}`, kept);
  }

  const wanted = config.layersToTransform;
  if (wanted === null || (Array.isArray(wanted) && wanted.length === 0)) return notSaved;
  const indexes = typeof wanted === 'number' ? [wanted] : (wanted as readonly number[]);
  const result = notSaved.filter((l) => {
    const index = layerIndexOf(l.path, config.layersPattern);
    return index !== null && indexes.includes(index);
  });
  if (result.length === 0) {
    const found = notSaved.map((l) => `${l.path} → ${layerIndexOf(l.path, config.layersPattern) ?? 'no index'}`);
    throw emptiedError(
      'layersToTransform',
      `none has a layer index in ${JSON.stringify(wanted)} (layer indexes found: ${found.join(', ')})`,
      notSaved,
    );
  }
  return result;
}
