// The unavailable reasons that need no built binding, each from the real failure: a package that is not
// installed, and the installed tfjs-node(-gpu) whose install script did not run (no tfjs_binding.node).
// This file never loads a working binding (its process stays clean for the addon-missing failures).
import '@tensorflow/tfjs-backend-cpu';
import { getLoraBackend, listLoraBackends, useBackend, BackendUnavailableError } from '@tfjs-lora/core';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  classifyLoadError,
  cudaBackend,
  cudaRequirementsFor,
  loadNativeBinding,
  missingLibraryIn,
  missingSharedLibraries,
  NATIVE_PACKAGES,
  nativeBackend,
} from './index.js';

const installedDir = (name: string) => dirname(createRequire(import.meta.url).resolve(`${name}/package.json`));

describe('native backends: registration', () => {
  it('registers cuda above every GPU backend and native between wasm and the GPUs, without loading anything', () => {
    expect(getLoraBackend('cuda')).toBe(cudaBackend);
    expect(getLoraBackend('native')).toBe(nativeBackend);
    expect(cudaBackend.tfBackend).toBe('tensorflow');
    expect(nativeBackend.tfBackend).toBe('tensorflow');
    expect(cudaBackend.priority).toBeGreaterThan(30); // webgpu
    expect(nativeBackend.priority).toBeGreaterThan(10); // wasm
    expect(nativeBackend.priority).toBeLessThan(30);
    expect(
      listLoraBackends()
        .map((b) => b.name)
        .slice(0, 2),
    ).toEqual(['cuda', 'native']);
  });
});

describe('native backends: unavailable reasons (real failures)', () => {
  it('package not installed: names the install command', async () => {
    const status = await loadNativeBinding({ packageName: '@tensorflow/tfjs-node-not-installed' });
    expect(status.ok).toBe(false);
    if (status.ok) return;
    expect(status.kind).toBe('package-missing');
    expect(status.reason).toMatch(
      /^@tensorflow\/tfjs-node-not-installed is not installed\. Install it: npm install @tensorflow\/tfjs-node-not-installed@4\.22\.0/,
    );
  });

  for (const flavor of ['cpu', 'gpu'] as const) {
    const name = NATIVE_PACKAGES[flavor];
    const dir = installedDir(name);
    const built = existsSync(join(dir, 'lib'));
    it.skipIf(built)(
      `native addon missing (${name} installed without its install script): names the exact rebuild command`,
      async () => {
        const status = await loadNativeBinding({ flavor, packageDir: dir });
        expect(status.ok).toBe(false);
        if (status.ok) return;
        expect(status.kind).toBe('addon-missing');
        expect(status.reason).toContain(`${join(dir, 'lib', 'napi-v8', 'tfjs_binding.node')}`);
        expect(status.reason).toContain(`npm rebuild ${name} --build-addon-from-source`);
        expect(status.reason).toContain('pnpm --filter @tfjs-lora/backend-cuda build:native');
      },
    );
    if (built)
      console.warn(
        `skipped: ${name} in node_modules has a lib/ folder (its binding was installed), so the addon-missing failure cannot be produced from it`,
      );
  }

  it('useBackend lists cuda and native with their reasons when neither can load', async () => {
    // Point both at the installed packages (no addon): one error names both.
    const { registerNativeBackends } = await import('./index.js');
    registerNativeBackends({
      native: { packageDir: installedDir(NATIVE_PACKAGES.cpu) },
      cuda: { packageDir: installedDir(NATIVE_PACKAGES.gpu) },
    });
    const err = await useBackend(['cuda', 'native']).catch((e: unknown) => e);
    expect(BackendUnavailableError.isInstance(err)).toBe(true);
    const attempts = (err as BackendUnavailableError).attempts;
    expect(attempts.map((a) => a.name)).toEqual(['cuda', 'native']);
    expect(attempts[0].reason).toContain('npm rebuild @tensorflow/tfjs-node-gpu --build-addon-from-source');
    expect(attempts[1].reason).toContain('npm rebuild @tensorflow/tfjs-node --build-addon-from-source');
    registerNativeBackends({ native: { packageDir: undefined }, cuda: { packageDir: undefined } });
  });
});

describe('native backends: shared-library errors', () => {
  it('asks the real dynamic loader which libraries are missing', () => {
    expect(missingSharedLibraries(['libc.so.6', 'libtfjs-lora-absent.so.1'])).toEqual(['libtfjs-lora-absent.so.1']);
  });

  it('reads the library out of the loader error of a real failed dlopen', () => {
    let message = '';
    try {
      process.dlopen({ exports: {} }, 'libcudnn-absent-for-test.so.8');
    } catch (e) {
      message = (e as Error).message;
    }
    expect(missingLibraryIn(message)).toBe('libcudnn-absent-for-test.so.8');
    const c = classifyLoadError(
      new Error(message.replace('libcudnn-absent-for-test.so.8', 'libcudnn.so.8')),
      NATIVE_PACKAGES.gpu,
    );
    expect(c.kind).toBe('library-missing');
    expect(c.reason).toContain('CUDA 11.2');
    expect(c.reason).toContain('cuDNN 8.1');
  });
});

describe('cudaRequirementsFor: the CUDA/cuDNN sonames of the TensorFlow a binding reports', () => {
  it('TensorFlow 2.9 (tfjs-node-gpu 4.22 download): CUDA 11 / cuDNN 8; 2.18+ (build:native:gpu, 2.21): CUDA 12 / cuDNN 9', () => {
    for (const v of ['2.9.1', '2.17.0']) {
      const r = cudaRequirementsFor(v);
      expect(r.libraries).toContain('libcudart.so.11.0');
      expect(r.libraries).toContain('libcudnn.so.8');
      expect(r.requirement).toContain('CUDA 11.2');
    }
    for (const v of ['2.18.0', '2.21.0', '3.0.0']) {
      const r = cudaRequirementsFor(v);
      expect(r.libraries).toEqual([
        'libcuda.so.1',
        'libcudart.so.12',
        'libcublas.so.12',
        'libcublasLt.so.12',
        'libcufft.so.11',
        'libcurand.so.10',
        'libcusolver.so.11',
        'libcusparse.so.12',
        'libcudnn.so.9',
      ]);
      expect(r.requirement).toContain('cuDNN 9.3+');
      expect(r.driver).toContain('CUDA 12');
    }
  });
});
