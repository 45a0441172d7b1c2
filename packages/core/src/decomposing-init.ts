// The initialisations that decompose W on the host (PiSSA's SVD, OLoRA's QR): the ones that must read W,
// so applyLora and addAdapter return a promise for them.
import type { InitLoraWeights } from './config.js';

/** The `initLoraWeights` modes that decompose W on the host: 'pissa', 'pissa_niter_K' and 'olora'. */
export type DecomposingInit = 'pissa' | `pissa_niter_${number}` | 'olora';

/** True for 'pissa', 'pissa_niter_K' and 'olora' (matched as PEFT matches them). */
export function isDecomposingInit(mode: InitLoraWeights | undefined): boolean {
  return typeof mode === 'string' && (mode.startsWith('pissa') || mode.toLowerCase() === 'olora');
}
