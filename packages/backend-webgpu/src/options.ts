import { LoraConfigError } from '@tfjs-lora/core';

/** Dawn's graphics backends this package can pick in Node ('auto': Vulkan when a driver is present, else OpenGL). */
export type DawnBackend = 'auto' | 'vulkan' | 'opengl' | 'opengles';

/** WebGPU feature level: 'compatibility' lets WebGPU run on OpenGL (ES) and older GPUs. */
export type FeatureLevel = 'core' | 'compatibility';

/** Options of {@link registerWebgpuBackend}; each has an environment variable (Node) that it overrides. */
export interface WebgpuBackendOptions {
  /**
   * Node only: Dawn backend. Env `TFJS_LORA_WEBGPU_DAWN_BACKEND`. Default 'auto': Vulkan when a Vulkan
   * loader and driver (ICD) are installed, falling back to Mesa OpenGL (surfaceless EGL) otherwise.
   */
  dawnBackend?: DawnBackend;
  /**
   * Adapter feature level. Env `TFJS_LORA_WEBGPU_FEATURE_LEVEL`. Default: 'compatibility' on Dawn's
   * OpenGL backends (the only level they offer), 'core' everywhere else.
   */
  featureLevel?: FeatureLevel;
  /** Adapter power preference (default 'high-performance'; tfjs's flag `WEBGPU_USE_LOW_POWER_GPU` also works). */
  powerPreference?: 'low-power' | 'high-performance';
  /** Node only: extra options for Dawn's `create()`, e.g. `'enable-dawn-features=dump_shaders'`. */
  dawnFlags?: readonly string[];
  /**
   * tfjs-backend-webgpu runs ops whose inputs are all smaller than this many elements on the CPU
   * (tfjs default 1000). Env `WEBGPU_CPU_HANDOFF_SIZE_THRESHOLD`. Tests set 0 so nothing hides on the CPU.
   */
  cpuHandoffThreshold?: number;
}

/** Options after merging the explicit ones, the environment and the defaults. */
export interface ResolvedWebgpuOptions {
  /** Requested Dawn backend. */
  dawnBackend: DawnBackend;
  /** Requested feature level; undefined means "the default for the backend that is chosen". */
  featureLevel: FeatureLevel | undefined;
  /** Power preference passed to requestAdapter. */
  powerPreference: 'low-power' | 'high-performance';
  /** Extra Dawn flags. */
  dawnFlags: readonly string[];
  /** CPU hand-off threshold, or undefined to leave tfjs's flag alone. */
  cpuHandoffThreshold: number | undefined;
}

/** Environment variable names read by this package. */
export const ENV = {
  dawnBackend: 'TFJS_LORA_WEBGPU_DAWN_BACKEND',
  featureLevel: 'TFJS_LORA_WEBGPU_FEATURE_LEVEL',
  cpuHandoffThreshold: 'WEBGPU_CPU_HANDOFF_SIZE_THRESHOLD',
} as const;

const DAWN_BACKENDS: readonly DawnBackend[] = ['auto', 'vulkan', 'opengl', 'opengles'];
const FEATURE_LEVELS: readonly FeatureLevel[] = ['core', 'compatibility'];

/** `process.env` when running in Node (or a bundler's shim), else an empty object. */
export function processEnv(): Record<string, string | undefined> {
  return (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};
}

function pick<T extends string>(
  field: string,
  value: string | undefined,
  allowed: readonly T[],
  source: string,
): T | undefined {
  if (value === undefined || value === '') return undefined;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new LoraConfigError(`${source} is ${JSON.stringify(value)}; expected one of ${allowed.join(', ')}.`, { field });
}

/**
 * Merges explicit options over the environment over the defaults. Throws a LoraConfigError naming the
 * option or variable when a value is not allowed.
 */
export function resolveWebgpuOptions(
  options: WebgpuBackendOptions,
  env: Record<string, string | undefined> = processEnv(),
): ResolvedWebgpuOptions {
  const dawnBackend =
    pick('dawnBackend', options.dawnBackend, DAWN_BACKENDS, 'option dawnBackend') ??
    pick('dawnBackend', env[ENV.dawnBackend], DAWN_BACKENDS, `environment variable ${ENV.dawnBackend}`) ??
    'auto';
  const featureLevel =
    pick('featureLevel', options.featureLevel, FEATURE_LEVELS, 'option featureLevel') ??
    pick('featureLevel', env[ENV.featureLevel], FEATURE_LEVELS, `environment variable ${ENV.featureLevel}`);
  let cpuHandoffThreshold = options.cpuHandoffThreshold;
  const envThreshold = env[ENV.cpuHandoffThreshold];
  if (cpuHandoffThreshold === undefined && envThreshold !== undefined && envThreshold !== '') {
    cpuHandoffThreshold = Number(envThreshold);
    if (!Number.isInteger(cpuHandoffThreshold) || cpuHandoffThreshold < 0) {
      throw new LoraConfigError(
        `environment variable ${ENV.cpuHandoffThreshold} is ${JSON.stringify(envThreshold)}; expected a whole number ≥ 0 (0 keeps every op on the GPU).`,
        { field: 'cpuHandoffThreshold' },
      );
    }
  } else if (cpuHandoffThreshold !== undefined && (!Number.isInteger(cpuHandoffThreshold) || cpuHandoffThreshold < 0)) {
    throw new LoraConfigError(`option cpuHandoffThreshold is ${cpuHandoffThreshold}; expected a whole number ≥ 0.`, {
      field: 'cpuHandoffThreshold',
    });
  }
  const powerPreference = options.powerPreference ?? 'high-performance';
  if (powerPreference !== 'low-power' && powerPreference !== 'high-performance') {
    throw new LoraConfigError(
      `option powerPreference is ${JSON.stringify(powerPreference)}; expected 'low-power' or 'high-performance'.`,
      {
        field: 'powerPreference',
      },
    );
  }
  return { dawnBackend, featureLevel, powerPreference, dawnFlags: [...(options.dawnFlags ?? [])], cpuHandoffThreshold };
}
