const MARKER = Symbol.for('tfjs-lora.error');

/** Options shared by every tfjs-lora error. */
export interface LoraErrorOptions {
  /** The error that caused this one, if any. */
  cause?: unknown;
}

/**
 * Base class of every error thrown by tfjs-lora. `LoraError.isInstance(e)` works across duplicate
 * copies of the package (two versions in one bundle), where `instanceof` would not.
 */
export class LoraError extends Error {
  private readonly [MARKER] = true;
  /** Stable name of the error class, e.g. `'LoraConfigError'`. */
  override readonly name: string = 'LoraError';

  constructor(message: string, options: LoraErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
  }

  /** True when `e` is any tfjs-lora error, from any copy of the package. */
  static isInstance(e: unknown): e is LoraError {
    return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[MARKER] === true;
  }
}

/** Checks an error's marker and stable `name`: the cross-copy `isInstance` of each subclass. */
export function hasErrorName(e: unknown, name: string): boolean {
  return LoraError.isInstance(e) && e.name === name;
}
