// The error for Keras models tfjs-layers cannot compute as Keras does.
import { ModelFormatError } from '@tfjs-lora/core';

/** One reason a Keras model cannot load: the layer (by name and class) and what it needs. */
export interface KerasIncompatibility {
  /** The layer's name in the Keras model (a dotted path inside nested models). */
  layer: string;
  /** The Keras class (`'MultiHeadAttention'`, `'Conv2D'`). */
  className: string;
  /** What tfjs-layers lacks: `'layer class'`, or the config key and its value (`'groups = 2'`). */
  reason: string;
}

/**
 * A Keras model uses layers tfjs-layers 4.22 lacks, or options it would silently ignore (`groups`,
 * `rms_scaling`, ReLU's `negative_slope`, ...). `incompatibilities` lists every one found, not just the first.
 * A ModelFormatError (its `name` too), told apart by `UnsupportedKerasModelError.isInstance`.
 */
export class UnsupportedKerasModelError extends ModelFormatError {
  // `name` stays 'ModelFormatError' so that ModelFormatError.isInstance(e) catches it too.
  /** Every layer and option that tfjs-layers cannot compute as Keras does. */
  readonly incompatibilities: readonly KerasIncompatibility[];

  constructor(message: string, incompatibilities: KerasIncompatibility[]) {
    super(message);
    this.incompatibilities = incompatibilities;
  }

  /** True when `e` is an UnsupportedKerasModelError from any copy of the package. */
  static override isInstance(e: unknown): e is UnsupportedKerasModelError {
    return (
      ModelFormatError.isInstance(e) && Array.isArray((e as Partial<UnsupportedKerasModelError>).incompatibilities)
    );
  }
}
