import type { GpuAdapterLike } from './gpu-types.js';

/** What is known about the WebGPU adapter in use: identity, software or not, features and limits. */
export interface WebgpuAdapterReport {
  /** Where WebGPU comes from: the browser's `navigator.gpu`, Dawn in Node, or a `navigator.gpu` set by the user in Node. */
  source: 'browser' | 'dawn' | 'preset';
  /** Dawn backend in Node ('vulkan', 'opengl', 'opengles'); undefined in a browser. */
  dawnBackend?: string;
  /** Feature level requested ('core' or 'compatibility'); undefined when the platform default was used. */
  featureLevel?: string;
  /** GPUAdapterInfo.vendor ('' when the platform does not say, e.g. on OpenGL). */
  vendor: string;
  /** GPUAdapterInfo.architecture. */
  architecture: string;
  /** GPUAdapterInfo.device (e.g. 'llvmpipe (LLVM 15.0.6, 256 bits)' or the GPU's name). */
  device: string;
  /** GPUAdapterInfo.description (e.g. 'OpenGL version 4.5 (Core Profile) Mesa 22.3.6'). */
  description: string;
  /**
   * True for a fallback (software) adapter as WebGPU reports it; Dawn's OpenGL backend on llvmpipe does
   * not flag itself, so {@link software} also looks at the names.
   */
  isFallbackAdapter: boolean;
  /** True when the adapter is a CPU implementation (SwiftShader, llvmpipe, lavapipe, WARP) or a fallback adapter. */
  software: boolean;
  /** Optional features the adapter supports, sorted. */
  features: string[];
  /** Every numeric limit of the adapter (`maxStorageBufferBindingSize`, `maxComputeWorkgroupSizeX`...). */
  limits: Record<string, number>;
  /** Why other Dawn backends were not used, in order tried (Node). */
  notes: string[];
}

const SOFTWARE = /swiftshader|llvmpipe|lavapipe|softpipe|microsoft basic render|warp/i;

/** Reads every numeric limit of a GPUSupportedLimits object (own or prototype getters). */
export function readLimits(limits: object): Record<string, number> {
  const out: Record<string, number> = {};
  const keys = new Set<string>();
  for (let o: object | null = limits; o && o !== Object.prototype; o = Object.getPrototypeOf(o) as object | null) {
    for (const k of Object.getOwnPropertyNames(o)) keys.add(k);
  }
  for (const k of [...keys].sort()) {
    const v = (limits as Record<string, unknown>)[k];
    if (typeof v === 'number') out[k] = v;
  }
  return out;
}

/** Builds the report of an adapter. */
export function adapterReport(
  adapter: GpuAdapterLike,
  context: Pick<WebgpuAdapterReport, 'source' | 'dawnBackend' | 'featureLevel' | 'notes'>,
): WebgpuAdapterReport {
  const info = adapter.info ?? {};
  const features = [...adapter.features];
  const isFallbackAdapter = Boolean(info.isFallbackAdapter ?? adapter.isFallbackAdapter ?? false);
  const names = `${info.vendor ?? ''} ${info.architecture ?? ''} ${info.device ?? ''} ${info.description ?? ''}`;
  return {
    ...context,
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    device: info.device ?? '',
    description: info.description ?? '',
    isFallbackAdapter,
    software: isFallbackAdapter || SOFTWARE.test(names),
    features: features.sort(),
    limits: readLimits(adapter.limits),
  };
}

/** One line naming the adapter, e.g. `llvmpipe-… (OpenGL version 4.5 … Mesa 22.3.6) via Dawn opengl, compatibility, software`. */
export function describeAdapter(r: WebgpuAdapterReport): string {
  const name = [r.vendor, r.architecture, r.device].filter(Boolean).join(' ') || 'unnamed adapter';
  const via =
    r.source === 'dawn'
      ? ` via Dawn ${r.dawnBackend}`
      : r.source === 'browser'
        ? ' in the browser'
        : ' (preset navigator.gpu)';
  const level = r.featureLevel ? `, ${r.featureLevel}` : '';
  const kind = r.software ? ', software' : ', hardware';
  return `${name}${r.description ? ` (${r.description})` : ''}${via}${level}${kind}${r.isFallbackAdapter ? ', fallback adapter' : ''}`;
}
