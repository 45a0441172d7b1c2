// The LoRA configuration, read top to bottom: its shape and PEFT's defaults (config/schema.ts), PEFT's
// name-matching rules (config/patterns.ts), the check of each field (config/checks.ts), and here the three
// ways in and out: `loraConfig` (options) and `fromPeftJson` (adapter_config.json) normalise a config once
// (validated, defaults filled in, frozen), `toPeftJson` writes one back. Everything after them takes the
// normalised `LoraConfig` as it is; `layerSettings` gives one layer's values (rank and alpha after
// rankPattern / alphaPattern). Which layers a config selects is config/targets.ts.
import { LoraConfigError } from './errors/index.js';
import {
  checkExtra,
  checkInit,
  checkPattern,
  checkRegex,
  checkSelector,
  checkStrings,
  fail,
  isAlpha,
  isPositiveInt,
  isRecord,
  refuseUnsupported,
  show,
  suggestKey,
  type Source,
} from './config/checks.js';
import { matchesPatternKey } from './config/patterns.js';
import {
  FIELDS,
  LORA_DEFAULTS,
  PEFT_KEYS,
  type Field,
  type LayerSettings,
  type LoraConfig,
  type LoraConfigInput,
} from './config/schema.js';

export { LORA_DEFAULTS, PEFT_KEYS } from './config/schema.js';
export type {
  BiasMode,
  InitLoraWeights,
  LayerSettings,
  LoraConfig,
  LoraConfigInput,
  ModuleSelector,
} from './config/schema.js';

/** Configs this module built (valid and frozen): `loraConfig` returns them as they are. */
const resolved = new WeakSet<object>();

/** Validates and resolves every field; shared by `loraConfig` and `fromPeftJson`. */
function resolve(input: Record<string, unknown>, src: Source): LoraConfig {
  const pick = <F extends Field>(f: F): unknown => (input[f] === undefined ? LORA_DEFAULTS[f] : input[f]);
  const r = pick('r');
  if (!isPositiveInt(r)) fail('r', src, 'a positive integer (the LoRA rank)', r, 'Use e.g. r: 8.');
  const loraAlpha = pick('loraAlpha');
  if (!isAlpha(loraAlpha))
    fail('loraAlpha', src, 'a finite, non-zero number', loraAlpha, 'Use e.g. loraAlpha: 16 (often 2 × r).');
  const loraDropout = pick('loraDropout');
  if (typeof loraDropout !== 'number' || !(loraDropout >= 0 && loraDropout < 1)) {
    fail('loraDropout', src, 'a probability in [0, 1)', loraDropout, 'Use 0 for no dropout, or e.g. 0.05.');
  }
  const bias = pick('bias');
  if (bias !== 'none' && bias !== 'all' && bias !== 'lora_only') {
    fail('bias', src, "one of 'none', 'all', 'lora_only'", bias, "Use 'none' unless biases should train too.");
  }
  const flags = {} as Record<'useRslora' | 'useDora' | 'fanInFanOut', boolean>;
  for (const f of ['useRslora', 'useDora', 'fanInFanOut'] as const) {
    const v = pick(f);
    if (typeof v !== 'boolean') fail(f, src, 'true or false', v, `Pass a boolean.`);
    flags[f] = v;
  }
  const targetModules = checkSelector('targetModules', src, pick('targetModules'));
  const excludeModules = checkSelector('excludeModules', src, pick('excludeModules'));
  const rawSave = pick('modulesToSave');
  const modulesToSave =
    rawSave === null
      ? null
      : checkStrings('modulesToSave', src, rawSave, 'Pass null or a list of layer names, e.g. ["classifier"].');
  for (const m of modulesToSave ?? []) checkRegex('modulesToSave', src, m, 'a list of layer names (regexes)');

  const rawLayers = pick('layersToTransform');
  const isIndex = (v: unknown): boolean => Number.isInteger(v) && (v as number) >= 0;
  if (rawLayers !== null && !isIndex(rawLayers) && !(Array.isArray(rawLayers) && rawLayers.every(isIndex))) {
    fail('layersToTransform', src, 'null, a non-negative integer, or a list of them', rawLayers, 'Use e.g. [0, 1, 2].');
  }
  const layersToTransform = Array.isArray(rawLayers)
    ? Object.freeze([...(rawLayers as number[])])
    : (rawLayers as number | null);
  const rawPattern = pick('layersPattern');
  let layersPattern: string | readonly string[] | null = null;
  if (typeof rawPattern === 'string') layersPattern = rawPattern;
  else if (rawPattern !== null)
    layersPattern = checkStrings(
      'layersPattern',
      src,
      rawPattern,
      'Pass null, a string like "layer", or a list of such strings.',
    );
  for (const p of typeof layersPattern === 'string' ? [layersPattern] : (layersPattern ?? [])) {
    checkRegex('layersPattern', src, p, 'a layer-name regex');
  }
  const regexTarget = typeof targetModules === 'string' || targetModules instanceof RegExp;
  if (regexTarget && layersToTransform !== null) {
    fail(
      'layersToTransform',
      src,
      'null when targetModules is a string or RegExp (as in PEFT)',
      layersToTransform,
      `targetModules is ${show(targetModules)}; list the layer names instead, or fold the layer numbers into the regex.`,
    );
  }
  if (regexTarget && layersPattern !== null) {
    fail(
      'layersPattern',
      src,
      'null when targetModules is a string or RegExp (as in PEFT)',
      layersPattern,
      `targetModules is ${show(targetModules)}; list the layer names instead, or fold the layer numbers into the regex.`,
    );
  }
  if (layersPattern !== null && layersPattern.length > 0 && layersToTransform === null) {
    fail(
      'layersPattern',
      src,
      'null unless layersToTransform is set (as in PEFT)',
      layersPattern,
      'Set layersToTransform too, or remove layersPattern.',
    );
  }

  const config: LoraConfig = Object.freeze({
    r,
    loraAlpha,
    loraDropout,
    targetModules,
    excludeModules,
    bias,
    modulesToSave,
    initLoraWeights: checkInit(src, pick('initLoraWeights')),
    ...flags,
    rankPattern: checkPattern('rankPattern', src, pick('rankPattern')),
    alphaPattern: checkPattern('alphaPattern', src, pick('alphaPattern')),
    layersToTransform,
    layersPattern,
    extra: checkExtra(input.extra ?? {}),
  });
  resolved.add(config);
  return config;
}

/**
 * Validates `input` and fills in PEFT 0.21's defaults (r=8, loraAlpha=8, loraDropout=0, bias 'none',
 * initLoraWeights true, no rslora/DoRA, empty patterns, fanInFanOut false, everything else null).
 * Throws LoraConfigError (with `field`) on any invalid value or unknown key. A config this function or
 * `fromPeftJson` returned is returned unchanged (so it keeps how its adapter_config.json was spelled).
 */
export function loraConfig(input: LoraConfigInput = {}): LoraConfig {
  if (resolved.has(input)) return input as LoraConfig;
  if (!isRecord(input)) {
    throw new LoraConfigError(
      `loraConfig expects an object of options; found ${show(input)}. Pass e.g. { r: 8, targetModules: ['dense'] }.`,
      { field: '(input)' },
    );
  }
  for (const key of Object.keys(input)) {
    if (key !== 'extra' && !(FIELDS as string[]).includes(key)) {
      throw new LoraConfigError(
        `Unknown LoraConfig option "${key}"; did you mean "${suggestKey(key)}"? Known options: ${[...FIELDS, 'extra'].join(', ')}. ` +
          'Options are camelCase here (snake_case is for fromPeftJson); put PEFT fields tfjs-lora does not interpret in `extra`.',
        { field: key },
      );
    }
  }
  return resolve(input as Record<string, unknown>, 'input');
}

/** How a config read by `fromPeftJson` spelled its defaults: keys it left out, patterns it wrote as null. */
const asRead = new WeakMap<LoraConfig, ReadonlyMap<string, 'absent' | 'null'>>();

function jsonEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function toJsonValue(v: unknown): unknown {
  if (v instanceof RegExp) return v.source;
  return v === null || typeof v !== 'object' ? v : structuredClone(v);
}

/**
 * PEFT's adapter_config.json for `config`: snake_case keys in sorted order, `peft_type` 'LORA', the
 * `extra` fields (task_type, peft_version, ...) unchanged, RegExp targets as their source string.
 * For a config read by `fromPeftJson`, interpreted keys the file left out (still at their default) stay
 * out, so reading and writing a file gives back the same object.
 */
export function toPeftJson(config: LoraConfig): Record<string, unknown> {
  const c = loraConfig(config);
  const read = asRead.get(c);
  const out: Record<string, unknown> = { ...(toJsonValue(c.extra) as Record<string, unknown>) };
  if (read?.get('peft_type') !== 'absent') out.peft_type = 'LORA';
  for (const f of FIELDS) {
    const key = PEFT_KEYS[f];
    const value = toJsonValue(c[f]);
    const how = read?.get(key);
    const isDefault = jsonEqual(value, toJsonValue(LORA_DEFAULTS[f]));
    if (how === 'absent' && isDefault) continue;
    out[key] = how === 'null' && isDefault ? null : value;
  }
  return Object.fromEntries(
    Object.keys(out)
      .sort()
      .map((k) => [k, out[k]]),
  );
}

/**
 * Reads PEFT's adapter_config.json (a parsed object or its JSON text) into a validated LoraConfig.
 * Throws LoraConfigError when `peft_type` is not 'LORA', when a field turns on a PEFT feature tfjs-lora
 * does not implement (LoftQ, QALoRA, layer replication, trainable tokens, target_parameters, EVA/CorDA/
 * other `*_config` variants, lora_bias, ...), or when a value is invalid. Other fields go to `extra`.
 */
export function fromPeftJson(json: unknown): LoraConfig {
  let obj: unknown = json;
  if (typeof json === 'string') {
    try {
      obj = JSON.parse(json);
    } catch (e) {
      throw new LoraConfigError(
        `adapter_config.json must be valid JSON; parsing failed (${(e as Error).message}). Pass the file's text unchanged, or the parsed object.`,
        { cause: e },
      );
    }
  }
  if (!isRecord(obj)) {
    throw new LoraConfigError(
      `adapter_config.json must hold a JSON object; found ${show(obj)}. Pass PEFT's adapter_config.json.`,
    );
  }
  const how = new Map<string, 'absent' | 'null'>();
  if (!('peft_type' in obj)) how.set('peft_type', 'absent');
  else if (obj.peft_type !== 'LORA') {
    throw new LoraConfigError(
      `"peft_type" in adapter_config.json must be "LORA"; found ${show(obj.peft_type)}. ` +
        'tfjs-lora reads LoRA adapters only; load this adapter with the PEFT method that wrote it.',
      { field: 'peft_type' },
    );
  }
  const input: Record<string, unknown> = {};
  const extra: Record<string, unknown> = {};
  const interpreted = new Map(FIELDS.map((f) => [PEFT_KEYS[f], f]));
  for (const [key, value] of Object.entries(obj)) {
    const field = interpreted.get(key);
    if (field === undefined) {
      refuseUnsupported(key, value);
      if (key !== 'peft_type') extra[key] = value;
    } else if (value === null && (field === 'rankPattern' || field === 'alphaPattern')) {
      how.set(key, 'null');
    } else {
      input[field] = value;
    }
  }
  for (const f of FIELDS) if (!(PEFT_KEYS[f] in obj)) how.set(PEFT_KEYS[f], 'absent');
  const config = resolve({ ...input, extra }, 'json');
  asRead.set(config, how);
  return config;
}

/** LoRA's scaling factor: `alpha / r`, or `alpha / sqrt(r)` with rank-stabilized LoRA (`useRslora`). */
export function scalingFor(r: number, alpha: number, useRslora: boolean): number {
  if (!isPositiveInt(r)) fail('r', 'input', 'a positive integer (the LoRA rank)', r, 'Use e.g. r: 8.');
  return useRslora ? alpha / Math.sqrt(r) : alpha / r;
}

/** The first key of `pattern` (in key order) that matches `path` as PEFT's get_pattern_key does, if any. */
function patternValue(pattern: Readonly<Record<string, number>>, path: string): number | undefined {
  const key = Object.keys(pattern).find((k) => matchesPatternKey(k, path));
  return key === undefined ? undefined : pattern[key];
}

/** The rank for the layer at `path`: the first `rankPattern` key matching the path or a dotted suffix of it, else `r`. */
export function rankFor(config: LoraConfig, path: string): number {
  return patternValue(config.rankPattern, path) ?? config.r;
}

/** The alpha for the layer at `path`: the first `alphaPattern` key matching the path or a dotted suffix of it, else `loraAlpha`. */
export function alphaFor(config: LoraConfig, path: string): number {
  return patternValue(config.alphaPattern, path) ?? config.loraAlpha;
}

/** One layer's LoRA settings under `config`: its rank and alpha (after the patterns) and the shared flags. */
export function layerSettings(config: LoraConfig, path: string): LayerSettings {
  return {
    r: rankFor(config, path),
    loraAlpha: alphaFor(config, path),
    loraDropout: config.loraDropout,
    useRslora: config.useRslora,
    useDora: config.useDora,
  };
}
