// A strict JSON parser for untrusted headers: RFC 8259 grammar only, duplicate keys rejected, nesting
// bounded, objects as Maps (no prototype pollution), numbers keep whether they were written as integers.
import { AdapterFormatError } from './errors/index.js';

/** A JSON number and whether its text was an integer (no fraction or exponent). */
export interface JsonNumber {
  readonly kind: 'number';
  readonly value: number;
  readonly integer: boolean;
}

/** A parsed JSON value: objects are Maps in key order. */
export type JsonValue = null | boolean | string | JsonNumber | JsonValue[] | Map<string, JsonValue>;

/** Where a parse failed: the message's subject (e.g. `the safetensors header`) and the advice to append. */
export interface StrictJsonContext {
  what: string;
  advice: string;
  maxDepth?: number;
}

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);
const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

/**
 * Parses `text` as exactly one JSON value with optional surrounding whitespace. Throws AdapterFormatError
 * naming the position and what was expected. Linear time; depth limited (default 32).
 */
export function parseStrictJson(text: string, ctx: StrictJsonContext): JsonValue {
  const maxDepth = ctx.maxDepth ?? 32;
  let i = 0;
  const fail = (expected: string): never => {
    const found = i >= text.length ? 'the end of the text' : JSON.stringify(text.slice(i, i + 12));
    throw new AdapterFormatError(
      `${ctx.what} is not valid JSON: expected ${expected} at character ${i}, found ${found}. ${ctx.advice}`,
    );
  };
  const skipWs = (): void => {
    while (i < text.length && WS.has(text.charCodeAt(i))) i++;
  };
  const parseString = (): string => {
    i++; // opening quote
    let out = '';
    let start = i;
    for (;;) {
      if (i >= text.length) fail("a closing '\"'");
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        out += text.slice(start, i);
        i++;
        return out;
      }
      if (c < 0x20) fail('no raw control character inside a string (use an escape)');
      if (c !== 0x5c) {
        i++;
        continue;
      }
      out += text.slice(start, i);
      const e = text[i + 1];
      if (e === 'u') {
        const hex = text.slice(i + 2, i + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('four hex digits after \\u');
        out += String.fromCharCode(parseInt(hex, 16));
        i += 6;
      } else if (e !== undefined && ESCAPES[e] !== undefined) {
        out += ESCAPES[e];
        i += 2;
      } else {
        fail('a valid escape (\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)');
      }
      start = i;
    }
  };
  const parseNumber = (): JsonNumber => {
    const m = /^-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 400));
    if (!m) fail('a number');
    i += m![0].length;
    return { kind: 'number', value: Number(m![0]), integer: m![1] === undefined && m![2] === undefined };
  };
  const parseValue = (depth: number): JsonValue => {
    if (depth > maxDepth) fail(`nesting no deeper than ${maxDepth} levels`);
    skipWs();
    const c = text[i];
    if (c === '{') {
      i++;
      const obj = new Map<string, JsonValue>();
      skipWs();
      if (text[i] === '}') {
        i++;
        return obj;
      }
      for (;;) {
        skipWs();
        if (text[i] !== '"') fail('a key string');
        const keyAt = i;
        const key = parseString();
        if (obj.has(key)) {
          throw new AdapterFormatError(
            `${ctx.what} has the key ${JSON.stringify(key)} twice (at character ${keyAt}); every key must be unique. ${ctx.advice}`,
            { tensor: key },
          );
        }
        skipWs();
        if (text[i] !== ':') fail("':'");
        i++;
        obj.set(key, parseValue(depth + 1));
        skipWs();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return obj;
        }
        fail("',' or '}'");
      }
    }
    if (c === '[') {
      i++;
      const arr: JsonValue[] = [];
      skipWs();
      if (text[i] === ']') {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(parseValue(depth + 1));
        skipWs();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return arr;
        }
        fail("',' or ']'");
      }
    }
    if (c === '"') return parseString();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return parseNumber();
    for (const [word, value] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return value;
      }
    }
    return fail('a JSON value');
  };
  const value = parseValue(0);
  skipWs();
  if (i !== text.length) fail('the end of the JSON text');
  return value;
}

/** True for a parsed JSON object. */
export function isJsonObject(v: JsonValue | undefined): v is Map<string, JsonValue> {
  return v instanceof Map;
}

/** True for a JSON number written as a non-negative integer that is exactly representable. */
export function isJsonIndex(v: JsonValue | undefined): v is JsonNumber {
  return (
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    !(v instanceof Map) &&
    v.integer &&
    Number.isSafeInteger(v.value) &&
    v.value >= 0 &&
    !Object.is(v.value, -0)
  );
}

/** A short rendering of a parsed value for error messages. */
export function showJson(v: JsonValue | undefined): string {
  if (v === undefined) return 'nothing';
  const plain = (x: JsonValue): unknown =>
    x instanceof Map
      ? Object.fromEntries([...x].map(([k, y]) => [k, plain(y)]))
      : Array.isArray(x)
        ? x.map(plain)
        : typeof x === 'object' && x !== null
          ? x.value
          : x;
  const s = JSON.stringify(plain(v)) ?? String(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
