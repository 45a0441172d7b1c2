// Where WebGPU comes from here: the browser's navigator.gpu, a navigator.gpu someone set in Node, or
// Dawn set up by this package. One acquisition is kept per process until released.
import { adapterReport, type WebgpuAdapterReport } from './adapter-report.js';
import type { GpuAdapterLike, GpuLike } from './gpu-types.js';
import { releaseDawnGlobal, setupDawn } from './node-dawn.js';
import { processEnv, type ResolvedWebgpuOptions } from './options.js';

/** A usable WebGPU entry point with its first adapter. */
export interface GpuContext {
  ok: true;
  /** The `GPU` object. */
  gpu: GpuLike;
  /** The adapter found while checking availability, until a device is made from it. */
  unusedAdapter: GpuAdapterLike | null;
  /** What the adapter is. */
  report: WebgpuAdapterReport;
  /** Options it was acquired with. */
  options: ResolvedWebgpuOptions;
}

/** WebGPU is not usable here; `reason` says exactly why. */
export interface GpuUnavailable {
  ok: false;
  reason: string;
}

/** True in Node (not in a browser, a worker or Deno's browser-like globals). */
export function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === 'string' && typeof (globalThis as { window?: unknown }).window === 'undefined';
}

function presetGpu(): GpuLike | undefined {
  return (globalThis as { navigator?: { gpu?: GpuLike } }).navigator?.gpu;
}

/** Why a browser (or worker) without `navigator.gpu` cannot run WebGPU. */
export function browserReason(): string {
  const secure = (globalThis as { isSecureContext?: boolean }).isSecureContext;
  if (secure === false)
    return 'navigator.gpu is undefined: WebGPU is only exposed to secure contexts (https:// or http://localhost)';
  return (
    'navigator.gpu is undefined: this browser does not expose WebGPU (Chrome/Edge 113+ and Safari 26+ do; ' +
    'Chromium on Linux needs --enable-unsafe-webgpu, Firefox needs dom.webgpu.enabled)'
  );
}

async function requestFrom(
  gpu: GpuLike,
  options: ResolvedWebgpuOptions,
  where: string,
): Promise<GpuAdapterLike | string> {
  try {
    const adapter = await gpu.requestAdapter({
      powerPreference: options.powerPreference,
      ...(options.featureLevel ? { featureLevel: options.featureLevel } : {}),
    });
    return (
      adapter ??
      `${where}.requestAdapter() returned null: no usable GPU adapter (GPU or driver blocklisted, or WebGPU disabled)`
    );
  } catch (e) {
    return `${where}.requestAdapter() threw: ${(e as Error).message}`;
  }
}

async function acquire(options: ResolvedWebgpuOptions): Promise<GpuContext | GpuUnavailable> {
  const preset = presetGpu();
  if (preset || !isNode()) {
    if (!preset) return { ok: false, reason: browserReason() };
    const source = isNode() ? 'preset' : 'browser';
    const adapter = await requestFrom(preset, options, 'navigator.gpu');
    if (typeof adapter === 'string') return { ok: false, reason: adapter };
    const report = adapterReport(adapter, { source, featureLevel: options.featureLevel, notes: [] });
    return { ok: true, gpu: preset, unusedAdapter: adapter, report, options };
  }
  const dawn = await setupDawn(options, processEnv());
  if (!dawn.ok) return dawn;
  const report = adapterReport(dawn.adapter, {
    source: 'dawn',
    dawnBackend: dawn.dawnBackend,
    featureLevel: dawn.featureLevel,
    notes: dawn.notes,
  });
  return { ok: true, gpu: dawn.gpu, unusedAdapter: dawn.adapter, report, options };
}

let current: Promise<GpuContext | GpuUnavailable> | null = null;

/** The WebGPU entry point, acquired once (a failure is not remembered: it may be fixed by installing something). */
export async function acquireGpu(options: ResolvedWebgpuOptions): Promise<GpuContext | GpuUnavailable> {
  if (current) {
    const c = await current;
    if (c.ok) return c;
  }
  current = acquire(options);
  const result = await current;
  if (!result.ok) current = null;
  return result;
}

/** The current context if one was acquired successfully, else null (never starts an acquisition). */
export async function currentGpu(): Promise<GpuContext | null> {
  const c = current ? await current : null;
  return c && c.ok ? c : null;
}

/** An adapter for a new device: the one found while checking availability, else a fresh one. */
export async function adapterForDevice(ctx: GpuContext): Promise<GpuAdapterLike> {
  const adapter = ctx.unusedAdapter;
  ctx.unusedAdapter = null;
  if (adapter) return adapter;
  const fresh = await requestFrom(ctx.gpu, ctx.options, 'navigator.gpu');
  if (typeof fresh === 'string') throw new Error(fresh);
  return fresh;
}

/** Forgets the acquisition and removes the `navigator.gpu` this package installed (lets Node exit). */
export async function releaseGpu(): Promise<void> {
  const c = current ? await current : null;
  current = null;
  if (c && c.ok && c.report.source === 'dawn') releaseDawnGlobal(c.gpu);
}
