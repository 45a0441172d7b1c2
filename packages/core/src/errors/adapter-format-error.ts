import { hasErrorName, LoraError, type LoraErrorOptions } from './lora-error.js';

/** An adapter file or tensor map does not have the expected format. */
export class AdapterFormatError extends LoraError {
  override readonly name = 'AdapterFormatError';
  /** What the error is about, when known. */
  readonly tensor: string | undefined;

  constructor(message: string, options: LoraErrorOptions & { tensor?: string } = {}) {
    super(message, options);
    this.tensor = options.tensor;
  }

  /** True when `e` is a AdapterFormatError from any copy of the package. */
  static override isInstance(e: unknown): e is AdapterFormatError {
    return hasErrorName(e, 'AdapterFormatError');
  }
}
