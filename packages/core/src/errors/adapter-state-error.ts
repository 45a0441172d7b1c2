import { hasErrorName, LoraError, type LoraErrorOptions } from './lora-error.js';

/** An operation does not fit the model's adapter state (unknown adapter, already merged...). */
export class AdapterStateError extends LoraError {
  override readonly name = 'AdapterStateError';
  /** What the error is about, when known. */
  readonly adapter: string | undefined;

  constructor(message: string, options: LoraErrorOptions & { adapter?: string } = {}) {
    super(message, options);
    this.adapter = options.adapter;
  }

  /** True when `e` is a AdapterStateError from any copy of the package. */
  static override isInstance(e: unknown): e is AdapterStateError {
    return hasErrorName(e, 'AdapterStateError');
  }
}
