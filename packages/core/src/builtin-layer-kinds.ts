// The one place where core's own layer kinds are registered. The registry (layer-kind.ts) imports no
// layer kind; modules that look kinds up import this file for its side effect.
import { denseLayerKind } from './dense-layer-kind.js';
import { registerLayerKind } from './layer-kind.js';

/** Registers core's built-in layer kinds (Dense). Done on import; idempotent. */
export function registerBuiltinLayerKinds(): void {
  registerLayerKind(denseLayerKind);
}

registerBuiltinLayerKinds();
