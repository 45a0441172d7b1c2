import * as tf from '@tensorflow/tfjs-core';
import { LoraError, registerLoraBackend, type Availability, type LoraBackend, type LoraKernels } from '@tfjs-lora/core';
import type { WebgpuAdapterReport } from './adapter-report.js';
import { acquireGpu, adapterForDevice, currentGpu, releaseGpu, type GpuContext } from './gpu-context.js';
import type { GpuDeviceLike } from './gpu-types.js';
import { webgpuLoraMatMul } from './ops/lora-matmul.js';
import { webgpuMultiAdapterMatMul } from './ops/multi-adapter-matmul.js';
import { resolveWebgpuOptions, type ResolvedWebgpuOptions, type WebgpuBackendOptions } from './options.js';
import { registerWebgpuKernels } from './register-kernels.js';

/** Priority of the 'webgpu' LoRA backend: above wasm (10) and cpu (0). */
export const WEBGPU_PRIORITY = 30;

/** The fused kernels core's Dense adapter uses while 'webgpu' is the active backend. */
export const webgpuKernels: LoraKernels = {
  loraMatMul: webgpuLoraMatMul,
  multiAdapterMatMul: webgpuMultiAdapterMatMul,
};

let options: WebgpuBackendOptions = {};
let device: GpuDeviceLike | null = null;

function resolved(): ResolvedWebgpuOptions {
  return resolveWebgpuOptions(options);
}

/** The limits tfjs-backend-webgpu asks for (the adapter's maxima), and its optional features. */
function deviceDescriptor(adapter: Awaited<ReturnType<typeof adapterForDevice>>) {
  const l = adapter.limits as Record<string, number>;
  const names = [
    'maxComputeWorkgroupStorageSize',
    'maxComputeWorkgroupsPerDimension',
    'maxStorageBufferBindingSize',
    'maxBufferSize',
    'maxComputeWorkgroupSizeX',
    'maxComputeInvocationsPerWorkgroup',
  ];
  const requiredLimits = Object.fromEntries(names.filter((n) => typeof l[n] === 'number').map((n) => [n, l[n]]));
  const requiredFeatures = ['timestamp-query'].filter((f) => adapter.features.has(f));
  return { requiredFeatures, requiredLimits };
}

/** tfjs backend factory: a WebGPUBackend on a device of our adapter (Dawn's needs our feature level). */
async function createTfBackend(ctx: GpuContext): Promise<tf.KernelBackend> {
  const { WebGPUBackend } = await import('@tensorflow/tfjs-backend-webgpu');
  const adapter = await adapterForDevice(ctx);
  device = await adapter.requestDevice(deviceDescriptor(adapter));
  type Ctor = new (d: unknown, info?: unknown) => tf.KernelBackend;
  return new (WebGPUBackend as unknown as Ctor)(device, adapter.info);
}

function registerFactory(ctx: GpuContext): void {
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  tf.registerBackend('webgpu', () => createTfBackend(ctx), 3);
}

/**
 * The 'webgpu' LoRA backend over @tensorflow/tfjs-backend-webgpu, with fused LoRA kernels. In a browser
 * it uses `navigator.gpu`; in Node it sets up Dawn (the optional `webgpu` package) first: Vulkan when a
 * driver is installed, Mesa OpenGL (surfaceless EGL, compatibility feature level) otherwise.
 */
export const webgpuBackend: LoraBackend = {
  name: 'webgpu',
  tfBackend: 'webgpu',
  priority: WEBGPU_PRIORITY,
  kernels: webgpuKernels,
  async isAvailable(): Promise<Availability> {
    let opts: ResolvedWebgpuOptions;
    try {
      opts = resolved();
    } catch (e) {
      return { ok: false, reason: (e as Error).message };
    }
    const ctx = await acquireGpu(opts);
    if (!ctx.ok) return { ok: false, reason: ctx.reason };
    try {
      await import('@tensorflow/tfjs-backend-webgpu');
    } catch (e) {
      return {
        ok: false,
        reason: `@tensorflow/tfjs-backend-webgpu could not be imported (${(e as Error).message}); install it (4.22, a peer dependency)`,
      };
    }
    return { ok: true };
  },
  async init(): Promise<void> {
    const opts = resolved();
    const ctx = await acquireGpu(opts);
    if (!ctx.ok) throw new LoraError(`WebGPU is not available: ${ctx.reason}`);
    await import('@tensorflow/tfjs-backend-webgpu'); // after navigator.gpu exists: it registers its kernels
    registerWebgpuKernels();
    if (opts.cpuHandoffThreshold !== undefined)
      tf.env().set('WEBGPU_CPU_HANDOFF_SIZE_THRESHOLD', opts.cpuHandoffThreshold);
    if (!tf.engine().registry['webgpu']) registerFactory(ctx); // an initialised tfjs webgpu backend is kept
  },
};

/**
 * Registers the 'webgpu' LoRA backend with core (done on import of this package; call it yourself when
 * a bundler drops side effects, or to pass options) and its fused kernels with tfjs. Options apply to
 * the next initialisation; passing them after the backend has been initialised throws.
 */
export function registerWebgpuBackend(opts: WebgpuBackendOptions = {}): LoraBackend {
  if (Object.keys(opts).length > 0 && tf.engine().registry['webgpu']) {
    throw new LoraError(
      `registerWebgpuBackend(options): the tfjs webgpu backend is already initialised, so its options can no longer change. ` +
        `Expected the call before useBackend()/tf.setBackend('webgpu'); found it after. Call it first, or disposeWebgpuBackend() before.`,
    );
  }
  resolveWebgpuOptions(opts); // throws a LoraConfigError on a bad value, before anything is stored
  options = { ...options, ...opts };
  registerWebgpuKernels();
  registerLoraBackend(webgpuBackend);
  return webgpuBackend;
}

/**
 * The adapter in use (or found by `isAvailable()`): vendor, architecture, device, description, whether
 * it is a software/fallback adapter, its features and limits. Null before availability was checked.
 */
export async function webgpuAdapterReport(): Promise<WebgpuAdapterReport | null> {
  return (await currentGpu())?.report ?? null;
}

/**
 * Disposes the tfjs webgpu backend (switching to cpu if it was active), destroys the device and, in
 * Node, drops the `navigator.gpu` this package installed so the process can exit. The backend can be
 * used again afterwards: the next `tf.setBackend('webgpu')` starts a new device.
 */
export async function disposeWebgpuBackend(): Promise<void> {
  if (tf.getBackend() === 'webgpu' && tf.findBackendFactory('cpu')) await tf.setBackend('cpu');
  const hadFactory = Boolean(tf.findBackendFactory('webgpu'));
  if (hadFactory) tf.removeBackend('webgpu'); // disposes the tfjs backend if it was created
  device?.destroy();
  device = null;
  await releaseGpu();
  if (hadFactory) {
    // a lazy factory that holds no GPU object: the next use acquires the GPU again
    tf.registerBackend(
      'webgpu',
      async () => {
        const again = await acquireGpu(resolved());
        if (!again.ok) throw new LoraError(`WebGPU is not available: ${again.reason}`);
        return createTfBackend(again);
      },
      3,
    );
  }
}
