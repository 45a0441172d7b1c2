import { LoraError } from '@tfjs-lora/core';

/** One named conformance check; `run` throws a {@link ConformanceFailure} (or any error) when it fails. */
export interface ConformanceCheck {
  /** Stable name, e.g. `peft/linear: gradients`. */
  readonly name: string;
  /** Runs on the active tfjs backend. */
  run(): Promise<void>;
}

/** A check that cannot run on this backend or in this environment, listed by name with the reason. */
export interface KnownGap {
  /** The check or area, e.g. `peft/conv2d`. */
  readonly name: string;
  /** Why, and what would close it. */
  readonly reason: string;
}

/** A conformance check did not hold: the message says what was compared, the numbers and the tolerance. */
export class ConformanceFailure extends LoraError {
  override readonly name = 'ConformanceFailure';

  /** True when `e` is a ConformanceFailure from any copy of the package. */
  static override isInstance(e: unknown): e is ConformanceFailure {
    return LoraError.isInstance(e) && e.name === 'ConformanceFailure';
  }
}
