import { hasErrorName, LoraError, type LoraErrorOptions } from './lora-error.js';

/** A LoRA configuration value is invalid, or a target matches no layer. */
export class LoraConfigError extends LoraError {
  override readonly name = 'LoraConfigError';
  /** What the error is about, when known. */
  readonly field: string | undefined;

  constructor(message: string, options: LoraErrorOptions & { field?: string } = {}) {
    super(message, options);
    this.field = options.field;
  }

  /** True when `e` is a LoraConfigError from any copy of the package. */
  static override isInstance(e: unknown): e is LoraConfigError {
    return hasErrorName(e, 'LoraConfigError');
  }
}
