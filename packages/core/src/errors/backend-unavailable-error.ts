import { hasErrorName, LoraError, type LoraErrorOptions } from './lora-error.js';

/** One backend that was tried and why it could not be used. */
export interface BackendAttempt {
  /** The LoRA backend's name. */
  name: string;
  /** Why it was unavailable or failed to initialise. */
  reason: string;
}

/** No requested LoRA backend could be initialised; the message lists every candidate and why. */
export class BackendUnavailableError extends LoraError {
  override readonly name = 'BackendUnavailableError';
  /** Every candidate that was tried, in order, with the reason it was rejected. */
  readonly attempts: readonly BackendAttempt[];

  constructor(message: string, options: LoraErrorOptions & { attempts?: BackendAttempt[] } = {}) {
    super(message, options);
    this.attempts = options.attempts ?? [];
  }

  /** True when `e` is a BackendUnavailableError from any copy of the package. */
  static override isInstance(e: unknown): e is BackendUnavailableError {
    return hasErrorName(e, 'BackendUnavailableError');
  }
}
