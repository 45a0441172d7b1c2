import { hasErrorName, LoraError, type LoraErrorOptions } from './lora-error.js';

/** One format's answer when `loadPretrained` tried it: its name and why it did not read the source. */
export interface FormatAttempt {
  /** The format's name (`'tfjs-layers'`, `'tfjs-graph'`, `'keras'`, ...). */
  format: string;
  /** Why it did not match, or the error it raised while loading. */
  reason: string;
}

/** A pretrained model's files could not be read: no registered format matched, or a format found them malformed. */
export class ModelFormatError extends LoraError {
  override readonly name = 'ModelFormatError';
  /** Each format tried and why it did not match (empty when one format matched and then failed). */
  readonly attempts: readonly FormatAttempt[];

  constructor(message: string, options: LoraErrorOptions & { attempts?: FormatAttempt[] } = {}) {
    super(message, options);
    this.attempts = options.attempts ?? [];
  }

  /** True when `e` is a ModelFormatError from any copy of the package. */
  static override isInstance(e: unknown): e is ModelFormatError {
    return hasErrorName(e, 'ModelFormatError');
  }
}
