// The few WebGPU shapes this package touches, typed structurally so that neither @webgpu/types nor a
// DOM lib with WebGPU is needed, and so that browser objects and Dawn's Node objects both fit.

/** `GPUAdapterInfo` (WebGPU): what the browser or Dawn says about the adapter. */
export interface GpuAdapterInfoLike {
  readonly vendor?: string;
  readonly architecture?: string;
  readonly device?: string;
  readonly description?: string;
  /** Newer implementations report this here rather than on the adapter. */
  readonly isFallbackAdapter?: boolean;
}

/** `GPUDevice` (WebGPU), only what this package calls. */
export interface GpuDeviceLike {
  destroy(): void;
  readonly lost?: Promise<{ readonly reason?: string; readonly message?: string }>;
}

/** `GPUAdapter` (WebGPU), only what this package reads. */
export interface GpuAdapterLike {
  readonly info?: GpuAdapterInfoLike;
  readonly features: { has(name: string): boolean } & Iterable<string>;
  readonly limits: object;
  readonly isFallbackAdapter?: boolean;
  readonly featureLevel?: string;
  requestDevice(descriptor?: {
    requiredFeatures?: string[];
    requiredLimits?: Record<string, number>;
  }): Promise<GpuDeviceLike>;
}

/** Options of `GPU.requestAdapter` (WebGPU), including `featureLevel` (not in every typing yet). */
export interface GpuRequestAdapterOptions {
  powerPreference?: 'low-power' | 'high-performance';
  featureLevel?: 'core' | 'compatibility';
  forceFallbackAdapter?: boolean;
}

/** `GPU` (WebGPU): `navigator.gpu` in a browser, `create([...])` of the `webgpu` package in Node. */
export interface GpuLike {
  requestAdapter(options?: GpuRequestAdapterOptions): Promise<GpuAdapterLike | null>;
}
