// The graph package's own error: a GraphModel this package cannot adapt (it needs executeAsync, or a
// targeted node's weight is not a constant).
import { LoraError, type LoraErrorOptions } from '@tfjs-lora/core';

/** A GraphModel that cannot take LoRA as it is: the message names the nodes and says what to do. */
export class UnsupportedGraphError extends LoraError {
  override readonly name = 'UnsupportedGraphError';
  /** The nodes that caused the refusal. */
  readonly nodes: readonly string[];

  constructor(message: string, options: LoraErrorOptions & { nodes?: string[] } = {}) {
    super(message, options);
    this.nodes = options.nodes ?? [];
  }

  /** True when `e` is an UnsupportedGraphError from any copy of the package. */
  static override isInstance(e: unknown): e is UnsupportedGraphError {
    return LoraError.isInstance(e) && e.name === 'UnsupportedGraphError';
  }
}
