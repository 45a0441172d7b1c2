// The explicit registration, for bundlers that drop side effects (importing the package does it too).
import { registerModelFormat, registerModelKind } from '@tfjs-lora/core';
import { graphModelFormat } from './graph-format.js';
import { graphModelKind } from './graph-model-kind.js';

/** Registers the GraphModel format with `loadPretrained` and GraphModel as a model kind of `applyLora`. Idempotent. */
export function registerGraph(): void {
  registerModelFormat(graphModelFormat);
  registerModelKind(graphModelKind);
}
