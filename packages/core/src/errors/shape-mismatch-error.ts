import { hasErrorName, LoraError, type LoraErrorOptions } from './lora-error.js';

/** A tensor's shape does not match the layer it is meant for. */
export class ShapeMismatchError extends LoraError {
  override readonly name = 'ShapeMismatchError';
  /** What the error is about, when known. */
  readonly layer: string | undefined;

  constructor(message: string, options: LoraErrorOptions & { layer?: string } = {}) {
    super(message, options);
    this.layer = options.layer;
  }

  /** True when `e` is a ShapeMismatchError from any copy of the package. */
  static override isInstance(e: unknown): e is ShapeMismatchError {
    return hasErrorName(e, 'ShapeMismatchError');
  }
}
