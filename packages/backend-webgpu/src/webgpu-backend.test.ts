// The plugin's registration, options and "why not" reasons; none of this needs a GPU.
import '@tensorflow/tfjs-backend-cpu';
import { getKernel } from '@tensorflow/tfjs-core';
import { getLoraBackend, LoraConfigError, listLoraBackends } from '@tfjs-lora/core';
import { describe, expect, it } from 'vitest';
import { adapterReport, describeAdapter, readLimits } from './adapter-report.js';
import { browserReason } from './gpu-context.js';
import type { GpuAdapterLike } from './gpu-types.js';
import { dawnLoadFailure, setupDawn } from './node-dawn.js';
import { ENV, resolveWebgpuOptions } from './options.js';
import { registerWebgpuBackend, webgpuBackend, webgpuKernels, WEBGPU_PRIORITY } from './webgpu-backend.js';

describe('registration', () => {
  it('registers the webgpu LoRA backend above wasm and cpu, with its fused kernels', () => {
    expect(registerWebgpuBackend()).toBe(webgpuBackend);
    expect(getLoraBackend('webgpu')).toBe(webgpuBackend);
    expect(listLoraBackends()[0].name).toBe('webgpu');
    expect(WEBGPU_PRIORITY).toBeGreaterThan(10);
    expect(webgpuBackend.kernels).toBe(webgpuKernels);
    expect(Object.keys(webgpuKernels).sort()).toEqual(['loraMatMul', 'multiAdapterMatMul']);
    for (const name of ['LoraMatMul', 'LoraBgmvShrink', 'LoraBgmvExpand'])
      expect(getKernel(name, 'webgpu'), name).toBeDefined();
    expect(getKernel('LoraMatMul', 'cpu')).toBeUndefined(); // other backends keep the composed ops
  });

  it('rejects a bad option before storing it', () => {
    expect(() => registerWebgpuBackend({ dawnBackend: 'metal' as never })).toThrow(LoraConfigError);
  });
});

describe('resolveWebgpuOptions', () => {
  it('takes explicit options over the environment over the defaults', () => {
    expect(resolveWebgpuOptions({}, {})).toEqual({
      dawnBackend: 'auto',
      featureLevel: undefined,
      powerPreference: 'high-performance',
      dawnFlags: [],
      cpuHandoffThreshold: undefined,
    });
    const env = { [ENV.dawnBackend]: 'opengles', [ENV.featureLevel]: 'core', [ENV.cpuHandoffThreshold]: '0' };
    expect(resolveWebgpuOptions({}, env)).toMatchObject({
      dawnBackend: 'opengles',
      featureLevel: 'core',
      cpuHandoffThreshold: 0,
    });
    expect(
      resolveWebgpuOptions({ dawnBackend: 'vulkan', featureLevel: 'compatibility', cpuHandoffThreshold: 5 }, env),
    ).toMatchObject({
      dawnBackend: 'vulkan',
      featureLevel: 'compatibility',
      cpuHandoffThreshold: 5,
    });
  });

  it('names the variable, the value and what is allowed', () => {
    expect(() => resolveWebgpuOptions({}, { [ENV.dawnBackend]: 'd3d12' })).toThrow(
      /environment variable TFJS_LORA_WEBGPU_DAWN_BACKEND is "d3d12"; expected one of auto, vulkan, opengl, opengles/,
    );
    expect(() => resolveWebgpuOptions({}, { [ENV.cpuHandoffThreshold]: 'all' })).toThrow(
      /WEBGPU_CPU_HANDOFF_SIZE_THRESHOLD is "all"/,
    );
    expect(() => resolveWebgpuOptions({ featureLevel: 'max' as never }, {})).toThrow(/option featureLevel is "max"/);
  });

  it('turns a bad environment value into an unavailability reason, not a throw', async () => {
    const saved = process.env[ENV.dawnBackend];
    process.env[ENV.dawnBackend] = 'd3d12';
    try {
      const avail = await webgpuBackend.isAvailable();
      expect(avail).toEqual({ ok: false, reason: expect.stringMatching(/TFJS_LORA_WEBGPU_DAWN_BACKEND is "d3d12"/) });
    } finally {
      if (saved === undefined) delete process.env[ENV.dawnBackend];
      else process.env[ENV.dawnBackend] = saved;
    }
  });
});

describe('reasons', () => {
  it('says which Vulkan piece is missing when Vulkan is forced without a driver', async () => {
    const r = await setupDawn(resolveWebgpuOptions({ dawnBackend: 'vulkan' }, {}), {
      VK_DRIVER_FILES: '/nonexistent/icd.json',
    });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(
      /^Dawn \(Node\) has no usable backend: vulkan: (the Vulkan loader libvulkan\.so\.1 was not found \(Debian\/Ubuntu package libvulkan1\)|no Vulkan driver manifest)/,
    );
  });

  it('tells a missing webgpu package from a dawn.node that does not load', () => {
    const notInstalled = Object.assign(new Error("Cannot find package 'webgpu' imported from /app/x.js"), {
      code: 'ERR_MODULE_NOT_FOUND',
    });
    expect(dawnLoadFailure(notInstalled)).toBe(
      "the optional peer dependency 'webgpu' (Dawn for Node) is not installed; install it: npm install webgpu@0.6.2",
    );
    const badBinary = new Error('libEGL.so.1: cannot open shared object file: No such file or directory');
    expect(dawnLoadFailure(badBinary)).toMatch(
      /could not load Dawn \(dawn\.node\): libEGL\.so\.1: cannot open shared object file/,
    );
  });

  it('explains a browser without navigator.gpu', () => {
    expect(browserReason()).toMatch(/^navigator\.gpu is undefined: /);
  });
});

describe('adapter report', () => {
  class Limits {
    get maxBufferSize(): number {
      return 2 ** 31;
    }
    get maxComputeWorkgroupSizeX(): number {
      return 1024;
    }
  }
  const adapter = (device: string, description: string): GpuAdapterLike => ({
    info: { vendor: '', architecture: '', device, description },
    features: new Set(['texture-compression-bc', 'float32-filterable']),
    limits: new Limits(),
    requestDevice: async () => ({ destroy() {} }),
  });

  it('reads limits from prototype getters (how browsers and Dawn expose them)', () => {
    expect(readLimits(new Limits())).toEqual({ maxBufferSize: 2 ** 31, maxComputeWorkgroupSizeX: 1024 });
  });

  it('flags software adapters by name and describes the adapter in one line', () => {
    const soft = adapterReport(
      adapter('llvmpipe (LLVM 15.0.6, 256 bits)', 'OpenGL version 4.5 (Core Profile) Mesa 22.3.6'),
      {
        source: 'dawn',
        dawnBackend: 'opengl',
        featureLevel: 'compatibility',
        notes: [],
      },
    );
    expect(soft.software).toBe(true);
    expect(soft.features).toEqual(['float32-filterable', 'texture-compression-bc']);
    expect(describeAdapter(soft)).toBe(
      'llvmpipe (LLVM 15.0.6, 256 bits) (OpenGL version 4.5 (Core Profile) Mesa 22.3.6) via Dawn opengl, compatibility, software',
    );
    const hard = adapterReport(adapter('NVIDIA H200', 'NVIDIA driver 580'), {
      source: 'dawn',
      dawnBackend: 'vulkan',
      featureLevel: 'core',
      notes: [],
    });
    expect(hard.software).toBe(false);
    expect(describeAdapter(hard)).toMatch(/^NVIDIA H200 .* via Dawn vulkan, core, hardware$/);
  });
});
