// The 'cuda' backend on a real binding: the copy of @tensorflow/tfjs-node-gpu that build:native makes
// (the CPU build of the binding: TensorFlow sees no GPU). Covers the no-GPU reasons for real and the
// test-only switch that runs the 'cuda' code path on the CPU. Skips, saying why, without that build.
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-layers';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '@tfjs-lora/core';
import { composedLoraMatMul } from '@tfjs-lora/core/math';
import { describe, expect, it } from 'vitest';
import { builtNativePackage } from '../test-support/native-build.js';
import {
  cudaBackend,
  cudaBindingStatus,
  CUDA12_LIBRARIES,
  missingSharedLibraries,
  nativeBackend,
  registerCudaBackend,
  type NodeKernelBackend,
} from './index.js';

const built = builtNativePackage('gpu');
if (built.skip) console.warn(`cuda backend tests skipped: ${built.skip}`);

describe.skipIf(built.skip !== null)('cuda backend on the CPU build of tfjs-node-gpu', () => {
  it('binding loaded, no GPU: names the CUDA/cuDNN libraries the loader cannot find (or, with all present, says no GPU is visible)', async () => {
    const status = await cudaBindingStatus({ allowCpuDevice: false });
    expect(status.ok).toBe(false);
    if (status.ok) return;
    // build:native's copy holds TensorFlow 2.21 (the CPU wheel): the CUDA 12 / cuDNN 9 libraries are probed.
    expect(status.reason).toContain('TensorFlow 2.21.0');
    const missing = missingSharedLibraries(CUDA12_LIBRARIES);
    expect(status.packageDir).toBe(built.dir);
    if (missing.length > 0) {
      expect(status.kind).toBe('library-missing');
      expect(status.reason).toContain(`cannot find ${missing.join(', ')}`);
      expect(status.reason).toContain('CUDA 12.5+');
      expect(status.reason).toContain('cuDNN 9.3+');
    } else {
      expect(status.kind).toBe('no-gpu');
    }
  });

  it('binding loaded, libraries present, no GPU visible: says so and what to check', async () => {
    const status = await cudaBindingStatus({ allowCpuDevice: false, cudaLibraries: ['libc.so.6'] });
    expect(status).toMatchObject({ ok: false, kind: 'no-gpu' });
    if (!status.ok)
      expect(status.reason).toMatch(
        /TensorFlow sees no GPU, although the CUDA and cuDNN libraries load\. Check that nvidia-smi lists a GPU.*CUDA_VISIBLE_DEVICES/,
      );
  });

  it("isAvailable() refuses a CPU device unless the test-only switch is on; useBackend('cuda') then runs on tfjs-node-gpu", async () => {
    registerCudaBackend({ allowCpuDevice: false });
    const refused = await cudaBackend.isAvailable();
    expect(refused.ok).toBe(false);
    registerCudaBackend({ allowCpuDevice: true });
    expect(await cudaBackend.isAvailable()).toEqual({ ok: true });
    expect((await useBackend('cuda')).name).toBe('cuda');
    const backend = tf.backend() as NodeKernelBackend;
    expect(tf.getBackend()).toBe('tensorflow');
    expect(backend.isGPUPackage).toBe(true);
    expect(backend.isUsingGpuDevice).toBe(false);
  });

  it("runs the fused loraMatMul through the 'cuda' backend's kernels, equal to the composed ops, without leaks", async () => {
    await useBackend('cuda');
    const x = tf.randomNormal([9, 6], 0, 1, 'float32', 1) as tf.Tensor2D;
    const kernel = tf.randomNormal([6, 5], 0, 1, 'float32', 2) as tf.Tensor2D;
    const a = tf.randomNormal([6, 2], 0, 1, 'float32', 3) as tf.Tensor2D;
    const b = tf.randomNormal([2, 5], 0, 1, 'float32', 4) as tf.Tensor2D;
    const before = tf.memory().numTensors;
    const args = { x, kernel, loraA: a, loraB: b, scaling: 0.5 };
    const diff = tf.tidy(
      () => tf.max(tf.abs(tf.sub(cudaBackend.kernels!.loraMatMul!(args), composedLoraMatMul(args)))).dataSync()[0],
    );
    expect(diff).toBeLessThan(1e-5);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, kernel, a, b]);
  });

  it("lets 'native' share the tfjs-node-gpu binding loaded by 'cuda' in the same process", async () => {
    expect(await nativeBackend.isAvailable()).toEqual({ ok: true });
    expect((await useBackend('native')).name).toBe('native');
  });
});

if (built.skip)
  describe('cuda backend on the CPU build of tfjs-node-gpu', () => it.skip(`skipped: ${built.skip}`, () => {}));
