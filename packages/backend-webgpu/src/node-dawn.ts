// Node only: WebGPU through Dawn (the `webgpu` npm package), set up before tfjs-backend-webgpu loads.
import type { GpuAdapterLike, GpuLike } from './gpu-types.js';
import { missingOpenGlLibraries, probeVulkan } from './native-libraries.js';
import type { FeatureLevel, ResolvedWebgpuOptions } from './options.js';

/** The Dawn graphics backends that can actually be created. */
export type ConcreteDawnBackend = 'vulkan' | 'opengl' | 'opengles';

interface DawnModule {
  create(flags: string[]): GpuLike;
  globals: Record<string, unknown>;
}

/** A working Dawn instance and the adapter it gave. */
export interface DawnSetup {
  ok: true;
  /** The `GPU` object (also installed as `navigator.gpu`). */
  gpu: GpuLike;
  /** The first adapter, not yet used for a device. */
  adapter: GpuAdapterLike;
  /** Which Dawn backend gave the adapter. */
  dawnBackend: ConcreteDawnBackend;
  /** Feature level the adapter was requested with. */
  featureLevel: FeatureLevel;
  /** Why other backends were passed over (e.g. "vulkan: no libvulkan.so.1"). */
  notes: string[];
}

/** Dawn could not give an adapter; `reason` says exactly why. */
export interface DawnFailure {
  ok: false;
  reason: string;
}

const WEBGPU_PACKAGE = 'webgpu';

/** Why importing the `webgpu` package failed: not installed, or dawn.node did not load (the message names the library). */
export function dawnLoadFailure(e: unknown): string {
  const err = e as Error & { code?: string };
  if (
    (err.code === 'ERR_MODULE_NOT_FOUND' || err.code === 'MODULE_NOT_FOUND') &&
    err.message.includes(`'${WEBGPU_PACKAGE}'`)
  ) {
    return `the optional peer dependency 'webgpu' (Dawn for Node) is not installed; install it: npm install webgpu@0.6.2`;
  }
  return `the 'webgpu' package could not load Dawn (dawn.node): ${err.message}`;
}

async function loadDawn(): Promise<DawnModule | string> {
  const specifier = WEBGPU_PACKAGE; // a variable: bundlers for the browser must not resolve it
  try {
    return (await import(/* @vite-ignore */ specifier)) as DawnModule;
  } catch (e) {
    return dawnLoadFailure(e);
  }
}

/** Installs Dawn's WebGPU globals (GPUBufferUsage...) that are missing, and `navigator.gpu`. */
function installGlobals(dawn: DawnModule, gpu: GpuLike): void {
  const g = globalThis as Record<string, unknown>;
  for (const [k, v] of Object.entries(dawn.globals)) if (!(k in g)) g[k] = v;
  const nav = g['navigator'] as Record<string, unknown> | undefined;
  if (nav === undefined) g['navigator'] = { gpu };
  else Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true, writable: true });
}

/** Removes `navigator.gpu` set by {@link setupDawn}, so that the Dawn instance can be collected and Node can exit. */
export function releaseDawnGlobal(gpu: GpuLike): void {
  const nav = (globalThis as { navigator?: { gpu?: unknown } }).navigator;
  if (nav && nav.gpu === gpu) delete nav.gpu;
}

/** Makes every `requestAdapter` call (tfjs's too) ask for this feature level, unless it names one. */
function defaultFeatureLevel(gpu: GpuLike, featureLevel: FeatureLevel): void {
  const original = gpu.requestAdapter.bind(gpu);
  gpu.requestAdapter = (options = {}) => original({ featureLevel, ...options });
}

/** Why Vulkan cannot be used here (no loader, no driver manifest), or null when both are present. */
async function vulkanProblem(env: Record<string, string | undefined>): Promise<string | null> {
  const vk = await probeVulkan(env);
  if (!vk.loader) return 'vulkan: the Vulkan loader libvulkan.so.1 was not found (Debian/Ubuntu package libvulkan1)';
  if (vk.drivers.length === 0) {
    return 'vulkan: no Vulkan driver manifest (ICD) in /etc/vulkan/icd.d or /usr/share/vulkan/icd.d, and VK_DRIVER_FILES is unset';
  }
  return null;
}

async function tryBackend(
  dawn: DawnModule,
  backend: ConcreteDawnBackend,
  options: ResolvedWebgpuOptions,
  env: Record<string, string | undefined>,
): Promise<DawnSetup | DawnFailure> {
  const gl = backend !== 'vulkan';
  if (gl) {
    const missing = await missingOpenGlLibraries(env);
    if (missing.length > 0) return { ok: false, reason: `${backend}: missing ${missing.join('; ')}` };
    // Mesa must not look for a display: an offscreen (surfaceless) EGL platform works on headless machines.
    if (!env['EGL_PLATFORM']) env['EGL_PLATFORM'] = 'surfaceless';
  } else {
    const problem = await vulkanProblem(env);
    if (problem) return { ok: false, reason: problem };
  }
  const featureLevel: FeatureLevel = options.featureLevel ?? (gl ? 'compatibility' : 'core');
  let gpu: GpuLike;
  try {
    gpu = dawn.create([`backend=${backend}`, ...options.dawnFlags]);
  } catch (e) {
    return { ok: false, reason: `${backend}: Dawn's create() failed: ${(e as Error).message}` };
  }
  let adapter: GpuAdapterLike | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: options.powerPreference, featureLevel });
  } catch (e) {
    return { ok: false, reason: `${backend}: requestAdapter failed: ${(e as Error).message}` };
  }
  if (!adapter) {
    const hint =
      gl && featureLevel === 'core' ? " (Dawn's OpenGL backends offer only featureLevel 'compatibility')" : '';
    return { ok: false, reason: `${backend}: Dawn found no adapter with featureLevel '${featureLevel}'${hint}` };
  }
  defaultFeatureLevel(gpu, featureLevel);
  installGlobals(dawn, gpu);
  return { ok: true, gpu, adapter, dawnBackend: backend, featureLevel, notes: [] };
}

/**
 * Creates a Dawn instance: the requested backend, or with 'auto' Vulkan when a loader and a driver are
 * installed and Mesa OpenGL (surfaceless EGL, compatibility feature level) otherwise. Installs
 * `navigator.gpu` and Dawn's WebGPU globals. Never throws: a failure says why each backend was refused.
 */
export async function setupDawn(
  options: ResolvedWebgpuOptions,
  env: Record<string, string | undefined>,
): Promise<DawnSetup | DawnFailure> {
  const dawn = await loadDawn();
  if (typeof dawn === 'string') return { ok: false, reason: dawn };
  const notes: string[] = [];
  let candidates: ConcreteDawnBackend[];
  if (options.dawnBackend !== 'auto') candidates = [options.dawnBackend];
  else {
    const problem = await vulkanProblem(env);
    if (problem) notes.push(problem);
    candidates = problem ? ['opengl'] : ['vulkan', 'opengl'];
  }
  for (const backend of candidates) {
    const r = await tryBackend(dawn, backend, options, env);
    if (r.ok) return { ...r, notes };
    notes.push(r.reason);
  }
  return { ok: false, reason: `Dawn (Node) has no usable backend: ${notes.join('; ')}` };
}
