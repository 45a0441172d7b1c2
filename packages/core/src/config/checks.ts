// The checks of each LoraConfig field, shared by loraConfig and fromPeftJson: each throws a LoraConfigError
// naming the field (as the caller spelled it), what was expected, what was found and what to do.
import { LoraConfigError } from '../errors/index.js';
import { FIELDS, PEFT_KEYS, type Field, type InitLoraWeights, type ModuleSelector } from './schema.js';
import { closestNames, isAllLinear, regexError } from './patterns.js';

/** Where a value came from, so that messages use the caller's names. */
export type Source = 'input' | 'json';

/** A short printable form of any value for error messages. */
export function show(v: unknown): string {
  let s: string | undefined;
  try {
    s = v instanceof RegExp || typeof v === 'number' || typeof v === 'bigint' ? undefined : JSON.stringify(v);
  } catch {
    s = undefined;
  }
  s ??= String(v);
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}

/** The field's name as the caller spelled it (camelCase input or snake_case JSON). */
export function label(field: Field, src: Source): string {
  return src === 'json' ? `"${PEFT_KEYS[field]}" in adapter_config.json (LoraConfig.${field})` : `LoraConfig.${field}`;
}

/** Throws a LoraConfigError naming the field, what was expected, what was found, and what to do. */
export function fail(field: Field, src: Source, expected: string, found: unknown, todo: string): never {
  throw new LoraConfigError(`${label(field, src)} must be ${expected}; found ${show(found)}. ${todo}`, { field });
}

/** True for a plain (non-array) object. */
export const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof RegExp);
/** True for an integer > 0. */
export const isPositiveInt = (v: unknown): v is number => Number.isInteger(v) && (v as number) > 0;
/** True for a finite, non-zero number (PEFT accepts any such alpha). */
export const isAlpha = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v !== 0;

/** Throws unless `pattern` compiles as a (Python-compatible) regex. */
export function checkRegex(field: Field, src: Source, pattern: string, what: string): void {
  const problem = regexError(pattern);
  if (problem !== null) {
    fail(field, src, `${what} that compiles`, pattern, `The regex does not compile (${problem}); fix or escape it.`);
  }
}

/** Validates a list of strings. */
export function checkStrings(field: Field, src: Source, v: unknown, todo: string): readonly string[] {
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) fail(field, src, 'a list of strings', v, todo);
  return Object.freeze([...(v as string[])]);
}

/** Validates targetModules / excludeModules: null, a regex string, a RegExp or a list of names. */
export function checkSelector(field: Field, src: Source, v: unknown): ModuleSelector | null {
  const todo = `Pass null, 'all-linear'${field === 'excludeModules' ? ' (no special meaning here)' : ''}, a regex string matching whole layer paths, a RegExp, or a list of layer names.`;
  if (v === null) return null;
  if (typeof v === 'string') {
    if (!(field === 'targetModules' && isAllLinear(v))) checkRegex(field, src, v, 'a regular expression');
    return v;
  }
  if (v instanceof RegExp) {
    if (v.flags.replace('u', '') !== '') {
      fail(
        field,
        src,
        'a RegExp without flags other than u',
        v,
        'PEFT stores the pattern source only, so flags would be lost; write a flagless RegExp.',
      );
    }
    return v;
  }
  return checkStrings(field, src, v, todo);
}

/** Validates rankPattern / alphaPattern values. */
export function checkPattern(
  field: 'rankPattern' | 'alphaPattern',
  src: Source,
  v: unknown,
): Readonly<Record<string, number>> {
  const isRank = field === 'rankPattern';
  const valueRule = isRank ? 'a positive integer rank' : 'a finite, non-zero alpha';
  if (!isRecord(v)) fail(field, src, `an object mapping layer-name regexes to ${valueRule}`, v, 'Pass {} for none.');
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(v)) {
    checkRegex(field, src, key, 'keyed by regular expressions');
    if (!(isRank ? isPositiveInt(value) : isAlpha(value))) {
      fail(
        field,
        src,
        `${valueRule} for every key`,
        { [key]: value },
        `Set ${JSON.stringify(key)} to e.g. ${isRank ? 4 : 16}.`,
      );
    }
    out[key] = value as number;
  }
  return Object.freeze(out);
}

/** Validates initLoraWeights against the modes tfjs-lora implements. */
export function checkInit(src: Source, v: unknown): InitLoraWeights {
  if (typeof v === 'boolean' || v === 'gaussian' || v === 'pissa' || v === 'olora') return v;
  if (typeof v === 'string' && /^pissa_niter_\d+$/.test(v)) return v as `pissa_niter_${number}`;
  const known = ['loftq', 'eva', 'corda', 'orthogonal', 'mica', 'lora_ga'].includes(String(v));
  fail(
    'initLoraWeights',
    src,
    "one of true, false, 'gaussian', 'pissa', 'pissa_niter_K' (K a non-negative integer), 'olora'",
    v,
    known
      ? `PEFT's '${String(v)}' initialization is not implemented in tfjs-lora; use an adapter initialized another way.`
      : 'Pick one of the allowed values.',
  );
}

/** Whether a PEFT field's value turns its feature on (not null, false or empty). */
export function isActive(v: unknown): boolean {
  if (v === null || v === undefined || v === false) return false;
  if (Array.isArray(v)) return v.length > 0;
  return !(isRecord(v) && Object.keys(v).length === 0);
}

/** PEFT fields whose features tfjs-lora does not implement, with the feature's name. */
export const REFUSED: Readonly<Record<string, string>> = {
  loftq_config: 'LoftQ initialization',
  use_qalora: 'QALoRA',
  layer_replication: 'layer replication',
  trainable_token_indices: 'trainable tokens',
  target_parameters: 'LoRA on bare parameters (target_parameters)',
  alora_invocation_tokens: 'activated LoRA (aLoRA)',
  use_bdlora: 'BD-LoRA',
  lora_bias: 'a trainable LoRA bias (lora_bias)',
};

/** Throws when a PEFT field turns on a feature tfjs-lora does not implement. */
export function refuseUnsupported(key: string, value: unknown): void {
  const feature =
    REFUSED[key] ?? (key.endsWith('_config') && key !== 'megatron_config' ? `the ${key} variant` : undefined);
  if (feature === undefined || !isActive(value)) return;
  throw new LoraConfigError(
    `"${key}" is ${show(value)}, which turns on ${feature}; tfjs-lora does not implement it. Expected null, false or empty ` +
      '(feature off). Use an adapter trained without it, or merge it into the base model in PEFT before converting.',
    { field: key },
  );
}

/** Validates and deep-freezes the uninterpreted PEFT fields kept in `extra`. */
export function checkExtra(v: unknown): Readonly<Record<string, unknown>> {
  const todo = 'Pass an object of PEFT fields (snake_case) to keep as they are, e.g. { task_type: "CAUSAL_LM" }.';
  if (!isRecord(v))
    throw new LoraConfigError(`LoraConfig.extra must be a plain object of JSON data; found ${show(v)}. ${todo}`, {
      field: 'extra',
    });
  const interpreted = Object.values(PEFT_KEYS);
  for (const [key, value] of Object.entries(v)) {
    if (key === 'peft_type' || interpreted.includes(key)) {
      const camel = FIELDS.find((f) => PEFT_KEYS[f] === key);
      throw new LoraConfigError(
        `LoraConfig.extra must not hold "${key}", which tfjs-lora interprets; found ${show(value)}. ` +
          (camel ? `Set LoraConfig.${camel} instead.` : 'peft_type is always "LORA"; remove it.'),
        { field: 'extra' },
      );
    }
    refuseUnsupported(key, value);
  }
  let copy: Record<string, unknown>;
  try {
    copy = structuredClone(v);
  } catch (e) {
    throw new LoraConfigError(`LoraConfig.extra must hold JSON data only; found ${show(v)}. ${todo}`, {
      field: 'extra',
      cause: e,
    });
  }
  return deepFreeze(copy);
}

/** Freezes an object and everything inside it. */
export function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null) {
    for (const child of Object.values(v)) deepFreeze(child);
    Object.freeze(v);
  }
  return v;
}

/** The known option closest to an unknown key (snake_case keys map to camelCase). */
export function suggestKey(key: string): string {
  const camel = key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
  const known = [...FIELDS, 'extra'];
  return known.includes(camel) ? camel : (closestNames(key, known, 1)[0] ?? 'r');
}
