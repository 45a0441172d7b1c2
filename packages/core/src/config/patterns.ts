// PEFT's name-matching rules as pure string functions: Python-style regexes, full matches, pattern keys,
// target selectors and modules_to_save names, and the nearest names for error messages. A leaf module:
// the config checks and the target selection both build on it.
import type { ModuleSelector } from './schema.js';

/** The `targetModules` shorthand for "every Dense layer that is not a model output" (compared case-insensitively, as PEFT does). */
export const ALL_LINEAR = 'all-linear';

/** True when `selector` is PEFT's `'all-linear'` shorthand (any letter case). */
export function isAllLinear(selector: ModuleSelector | null): selector is string {
  return typeof selector === 'string' && selector.toLowerCase() === ALL_LINEAR;
}

/**
 * Rewrites the Python `re` syntax PEFT users write that JavaScript spells differently: named groups
 * `(?P<name>...)` and back-references `(?P=name)`. Everything else is passed through unchanged.
 */
export function pythonRegexSource(source: string): string {
  return source.replace(/\(\?P</g, '(?<').replace(/\(\?P=(\w+)\)/g, '\\k<$1>');
}

/** Why a Python-style regex string does not compile in JavaScript, or null when it compiles. */
export function regexError(source: string): string | null {
  try {
    new RegExp(pythonRegexSource(source));
    return null;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

const compiled = new Map<string, RegExp>();
/** A compiled regex, cached by source and flags (bounded). */
export function cachedRegExp(source: string, flags = ''): RegExp {
  const key = `${flags}/${source}`;
  let re = compiled.get(key);
  if (re === undefined) {
    re = new RegExp(source, flags);
    if (compiled.size > 1000) compiled.clear();
    compiled.set(key, re);
  }
  return re;
}

/** `re.fullmatch(pattern, text)`: the Python-style regex string must match the whole of `text`. */
export function fullMatch(pattern: string | RegExp, text: string): boolean {
  if (typeof pattern === 'string') return cachedRegExp(`^(?:${pythonRegexSource(pattern)})$`).test(text);
  return cachedRegExp(`^(?:${pattern.source})$`, pattern.flags.replace(/[gy]/g, '')).test(text);
}

/**
 * PEFT's `get_pattern_key` test: `key` (a regex) matches the whole path or a suffix of it that starts
 * after a '.', e.g. 'fc2' matches 'mlp.fc2' but not 'mlp.xfc2'.
 */
export function matchesPatternKey(key: string, path: string): boolean {
  return cachedRegExp(`^(?:.*\\.)?(?:${pythonRegexSource(key)})$`).test(path);
}

/**
 * Whether `path` is selected by `selector`, as PEFT matches `target_modules` / `exclude_modules`:
 * a string is a regex that must match the whole path (`re.fullmatch`; `'all-linear'` needs the layer's
 * class, so `selectTargets` handles it and here it is only a regex); a RegExp must match the whole
 * path too; a list matches a path equal to an entry or ending in '.' + entry.
 */
export function matchesSelector(selector: ModuleSelector, path: string): boolean {
  if (typeof selector === 'string' || selector instanceof RegExp) return fullMatch(selector, path);
  return selector.some((name) => path === name || path.endsWith(`.${name}`));
}

function levenshtein(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length]!;
}

/**
 * The `n` candidates nearest to `name` by Levenshtein distance (ignoring letter case), nearest first,
 * ties in candidate order. A dotted candidate ('encoder.q_lin') is as near as its last component is.
 */
export function closestNames(name: string, candidates: readonly string[], n = 3): string[] {
  const lower = name.toLowerCase();
  const scored = [...new Set(candidates)].map((candidate, order) => {
    const c = candidate.toLowerCase();
    const last = c.slice(c.lastIndexOf('.') + 1);
    return { candidate, order, d: Math.min(levenshtein(lower, c), levenshtein(lower, last)) };
  });
  scored.sort((x, y) => x.d - y.d || x.order - y.order);
  return scored.slice(0, Math.max(0, n)).map((s) => s.candidate);
}

/** PEFT's modules_to_save test: `name` (a regex) matches a whole dotted component run of `path`, or a parent of it. */
export function matchesModuleToSave(name: string, path: string): boolean {
  return cachedRegExp(`^(?:.*\\.)?(?:${pythonRegexSource(name)})(?:\\..*)?$`).test(path);
}
