import * as tf from '@tensorflow/tfjs-core';
import { BackendUnavailableError, LoraError, type BackendAttempt } from './errors/index.js';
import type { LoraKernels } from './kernels.js';

/** Whether a backend can run here, and if not, why. */
export type Availability = { ok: true } | { ok: false; reason: string };

/**
 * A compute backend plugin: one small object that wraps a TensorFlow.js backend and may supply fused
 * LoRA kernels. Plugins call {@link registerLoraBackend} from their entry file.
 */
export interface LoraBackend {
  /** LoRA backend name, e.g. `'cpu'`, `'wasm'`, `'webgpu'`, `'cuda'`. */
  readonly name: string;
  /** The TensorFlow.js backend it runs on (`tf.setBackend` name). */
  readonly tfBackend: string;
  /** Higher is preferred by `useBackend('auto')`; GPUs above wasm above cpu. */
  readonly priority: number;
  /** Whether this environment can run it; `reason` says exactly why not. Must not throw. */
  isAvailable(): Promise<Availability>;
  /** Loads and registers the tfjs backend. Called at most once by the registry. */
  init(): Promise<void>;
  /** Optional fused kernels; core uses each one present and composes tfjs ops for the rest. */
  readonly kernels?: LoraKernels;
}

interface Entry {
  backend: LoraBackend;
  init?: Promise<void>;
  failure?: string;
}

/** The cpu backend over @tensorflow/tfjs-backend-cpu: complete, slow, available everywhere. */
export const cpuBackend: LoraBackend = {
  name: 'cpu',
  tfBackend: 'cpu',
  priority: 0,
  async isAvailable() {
    if (tf.findBackendFactory('cpu')) return { ok: true };
    try {
      await import('@tensorflow/tfjs-backend-cpu');
      return { ok: true };
    } catch (e) {
      return {
        ok: false,
        reason: `@tensorflow/tfjs-backend-cpu could not be imported (${(e as Error).message}); install it`,
      };
    }
  },
  async init() {
    if (!tf.findBackendFactory('cpu')) await import('@tensorflow/tfjs-backend-cpu');
  },
};

const registry = new Map<string, Entry>([['cpu', { backend: cpuBackend }]]);

/**
 * Registers a LoRA backend. Registering the same object again is a no-op; a different object under a
 * taken name throws unless `{override: true}`.
 */
export function registerLoraBackend(backend: LoraBackend, options: { override?: boolean } = {}): void {
  const existing = registry.get(backend.name);
  if (existing && existing.backend !== backend && !options.override) {
    throw new LoraError(
      `A LoRA backend named '${backend.name}' is already registered. Expected a unique name; ` +
        `found a second registration. Pass {override: true} to replace it, or use another name.`,
    );
  }
  if (!existing || existing.backend !== backend) registry.set(backend.name, { backend });
}

/** Removes a registered LoRA backend (mainly for tests); returns whether it was present. */
export function unregisterLoraBackend(name: string): boolean {
  return registry.delete(name);
}

/** Every registered LoRA backend, highest priority first. */
export function listLoraBackends(): LoraBackend[] {
  return [...registry.values()].map((e) => e.backend).sort((a, b) => b.priority - a.priority);
}

/** The registered LoRA backend of that name, or undefined. */
export function getLoraBackend(name: string): LoraBackend | undefined {
  return registry.get(name)?.backend;
}

async function tryBackend(entry: Entry): Promise<string | null> {
  if (entry.failure) return entry.failure;
  const { backend } = entry;
  let avail: Availability;
  try {
    avail = await backend.isAvailable();
  } catch (e) {
    avail = { ok: false, reason: `isAvailable() threw: ${(e as Error).message}` };
  }
  if (!avail.ok) return avail.reason; // not remembered: availability may change (package installed later)
  entry.init ??= backend.init();
  try {
    await entry.init;
  } catch (e) {
    entry.failure = `init() failed: ${(e as Error).message}`;
    return entry.failure;
  }
  try {
    const ok = await tf.setBackend(backend.tfBackend);
    if (!ok) return `tf.setBackend('${backend.tfBackend}') returned false (the tfjs backend failed to initialise)`;
    await tf.ready();
  } catch (e) {
    return `tf.setBackend('${backend.tfBackend}') threw: ${(e as Error).message}`;
  }
  return null;
}

/**
 * Chooses and activates a backend. `'auto'` tries every registered backend by priority; a name or a list
 * of names tries those in order. Each backend is initialised once; failures are remembered. Throws one
 * {@link BackendUnavailableError} listing every candidate and why, when none works.
 */
export async function useBackend(spec: string | readonly string[] = 'auto'): Promise<LoraBackend> {
  const names = spec === 'auto' ? listLoraBackends().map((b) => b.name) : typeof spec === 'string' ? [spec] : [...spec];
  const attempts: BackendAttempt[] = [];
  for (const name of names) {
    const entry = registry.get(name);
    if (!entry) {
      attempts.push({
        name,
        reason: `not registered (registered: ${[...registry.keys()].join(', ')}); import its package, e.g. @tfjs-lora/backend-${name}`,
      });
      continue;
    }
    const reason = await tryBackend(entry);
    if (reason === null) return entry.backend;
    attempts.push({ name, reason });
  }
  const list = attempts.map((a) => `  - ${a.name}: ${a.reason}`).join('\n');
  throw new BackendUnavailableError(
    `No LoRA backend could be used (requested: ${JSON.stringify(spec)}). Tried:\n${list}\n` +
      `Install or import a backend package, or request one that is available here.`,
    { attempts },
  );
}

/** The LoRA backend whose tfjs backend is the active one (`tf.getBackend()`), if registered. */
export function activeLoraBackend(): LoraBackend | undefined {
  const current = tf.getBackend();
  return listLoraBackends().find((b) => b.tfBackend === current);
}

/** The active backend's fused kernels (empty when it provides none). */
export function activeKernels(): LoraKernels {
  return activeLoraBackend()?.kernels ?? {};
}
