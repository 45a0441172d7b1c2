// The 'native' backend on a real binding: the copy of @tensorflow/tfjs-node that build:native compiles
// against libtensorflow from the tensorflow-cpu wheel. Skips, saying why, when that build is absent.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { applyLora, useBackend } from '@tfjs-lora/core';
import { composedLoraMatMul } from '@tfjs-lora/core/math';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { builtNativePackage } from '../test-support/native-build.js';
import { cudaBindingStatus, loadNativeBinding, nativeBindingStatus, nativeLoraMatMul, stepConfig } from './index.js';

const built = builtNativePackage('cpu');
if (built.skip) console.warn(`native backend tests skipped: ${built.skip}`);

const seeded = (n: number, seed: number, scale = 1) =>
  Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 7.13 + i * 1.37) * scale);
const t2 = (r: number, c: number, seed: number, scale = 1) => tf.tensor2d(seeded(r * c, seed, scale), [r, c]);
const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);

/** Forward and gradients (x, A, B, bias) of sum(f ⊙ up) for one loraMatMul implementation. */
function loraOutputs(
  impl: typeof composedLoraMatMul,
  kernel: tf.Tensor2D,
  inputs: tf.Tensor[],
  up: tf.Tensor,
): tf.Tensor[] {
  const f = (...t: tf.Tensor[]) =>
    impl({
      x: t[0] as tf.Tensor2D,
      kernel,
      loraA: t[1] as tf.Tensor2D,
      loraB: t[2] as tf.Tensor2D,
      bias: t[3] as tf.Tensor1D,
      scaling: 2.5,
    });
  return tf.tidy(() => [f(...inputs), ...tf.grads((...t: tf.Tensor[]) => tf.sum(tf.mul(f(...t), up)))(inputs)]);
}

describe.skipIf(built.skip !== null)('native backend on the built binding', () => {
  it('loads the build:native copy lazily, keeps the active tfjs backend, and reports TensorFlow on the CPU', async () => {
    await tf.setBackend('cpu');
    expect(tf.findBackendFactory('tensorflow')).toBeNull();
    expect(await nativeBindingStatus()).toEqual({ ok: true });
    expect(tf.getBackend()).toBe('cpu');
    const status = await loadNativeBinding();
    expect(status).toMatchObject({
      ok: true,
      flavor: 'cpu',
      packageDir: built.dir,
      gpu: false,
      tensorflowVersion: '2.21.0',
    });
  });

  it("is what useBackend('native') activates: tfjs's 'tensorflow' backend, with the faster Step", async () => {
    expect((await useBackend('native')).name).toBe('native');
    expect(tf.getBackend()).toBe('tensorflow');
    expect(tf.getKernel('Step', 'tensorflow')?.kernelFunc).toBe(stepConfig.kernelFunc);
  });

  it('tf.memory() accounting works on the tensorflow backend: a leaked tensor is counted, its dispose is seen', async () => {
    await useBackend('native');
    const before = tf.memory();
    const leaked = tf.tidy(() => tf.keep(tf.add(tf.ones([8, 8]), 1)));
    expect(tf.memory().numTensors).toBe(before.numTensors + 1);
    expect(tf.memory().numBytes).toBe(before.numBytes + 8 * 8 * 4);
    leaked.dispose();
    expect(tf.memory().numTensors).toBe(before.numTensors);
  });

  it('Step equals the cpu backend (NaN kept, 0 at 0, alpha delegated) and leaks nothing', async () => {
    const values = [-2, -0, 0, 1e-30, 3, NaN, -Infinity, Infinity];
    const run = async (backend: string, alpha: number) => {
      await tf.setBackend(backend);
      return tf.tidy(() => Array.from(tf.step(tf.tensor1d(values), alpha).dataSync()));
    };
    const cpu = [await run('cpu', 0), await run('cpu', 0.3)];
    const before = tf.memory().numTensors;
    expect(await run('tensorflow', 0)).toEqual(cpu[0]);
    expect(await run('tensorflow', 0.3)).toEqual(cpu[1]);
    expect(cpu[0]).toEqual([0, 0, 0, 1, 1, NaN, 0, 1]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('loraMatMul (MatMul ops on the binding) equals the composed ops on tensorflow and the cpu backend (forward, dx, dA, dB, dbias), without leaks', async () => {
    await useBackend('native');
    const before = tf.memory().numTensors;
    const make = () => [t2(37, 53, 1), t2(53, 5, 3, 0.5), t2(5, 29, 4, 0.5), tf.tensor1d(seeded(29, 5))];
    const kernel = t2(53, 29, 2, 0.5);
    const up = t2(37, 29, 6);
    const inputs = make();
    const ours = loraOutputs(nativeLoraMatMul, kernel, inputs, up);
    const composed = loraOutputs(composedLoraMatMul, kernel, inputs, up);
    expect(tf.memory().numTensors).toBe(before + 6 + 10); // inputs and the 5 outputs of each
    const oursData = ours.map((t) => Array.from(t.dataSync()));
    ours.forEach((t, i) => expect(maxDiff(t, composed[i])).toBeLessThan(1e-4));
    tf.dispose([...ours, ...composed, ...inputs, kernel, up]);
    expect(tf.memory().numTensors).toBe(before);

    await tf.setBackend('cpu');
    const cpuInputs = make();
    const [ck, cu] = [t2(53, 29, 2, 0.5), t2(37, 29, 6)];
    const ref = loraOutputs(composedLoraMatMul, ck, cpuInputs, cu);
    ref.forEach((t, i) => expect(tf.tidy(() => maxDiff(t, tf.tensor(oursData[i], t.shape)))).toBeLessThan(1e-3));
    const onCpu = loraOutputs(nativeLoraMatMul, ck, cpuInputs, cu); // its tfjs-ops path on other backends
    onCpu.forEach((t, i) => expect(maxDiff(t, ref[i])).toBeLessThan(1e-4));
    tf.dispose([...ref, ...onCpu, ...cpuInputs, ck, cu]);
  });

  it('README example: LoRA on a Dense model trains on native TensorFlow', async () => {
    const backend = await useBackend(['cuda', 'native', 'wasm', 'cpu']);
    expect(backend.name).toBe('native'); // no GPU here; cuda reports why
    const base = tfl.sequential({
      layers: [
        tfl.layers.dense({ name: 'hidden', units: 32, activation: 'relu', inputShape: [16] }),
        tfl.layers.dense({ name: 'head', units: 4, activation: 'softmax' }),
      ],
    });
    const lora = applyLora(base, { r: 4, loraAlpha: 8, targetModules: ['hidden', 'head'] });
    const optimizer = tf.train.adam(1e-2);
    lora.model.compile({ optimizer, loss: 'categoricalCrossentropy' });
    const xs = tf.tensor2d(seeded(64 * 16, 9), [64, 16]);
    const ys = tf.tidy(() => tf.oneHot(tf.argMax(tf.slice(xs, [0, 0], [64, 4]), 1), 4)); // a learnable target
    const before = tf.memory().numTensors;
    const losses: number[] = [];
    for (let i = 0; i < 30; i++) losses.push((await lora.model.trainOnBatch(xs, ys)) as number);
    expect(tf.getBackend()).toBe('tensorflow');
    expect(losses[29]).toBeLessThan(losses[0] * 0.8);
    expect(tf.memory().numTensors).toBe(before + 8); // Adam's two moments for each of the 4 LoRA factors
    tf.dispose([xs, ys]);
    optimizer.dispose(); // the model does not own an optimizer passed to compile()
    lora.dispose();
    base.dispose();
  });

  it("makes 'cuda' refuse in this process, saying tfjs-node already owns the 'tensorflow' backend", async () => {
    const status = await cudaBindingStatus();
    expect(status.ok).toBe(false);
    if (!status.ok)
      expect(status.reason).toMatch(
        /'tensorflow' backend in this process comes from @tensorflow\/tfjs-node|already provides tfjs's 'tensorflow' backend/,
      );
  });

  it('libtensorflow missing (a copy of the package without deps/lib, loaded in a child process without LD_LIBRARY_PATH)', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'tfjs-node-nolib-'));
    try {
      const pkg = join(tmp, 'tfjs-node');
      mkdirSync(join(pkg, 'lib', 'napi-v8'), { recursive: true });
      cpSync(join(built.dir!, 'package.json'), join(pkg, 'package.json'));
      cpSync(join(built.dir!, 'dist'), join(pkg, 'dist'), { recursive: true });
      cpSync(join(built.dir!, 'lib', 'napi-v8', 'tfjs_binding.node'), join(pkg, 'lib', 'napi-v8', 'tfjs_binding.node'));
      symlinkSync(realpathSync(join(built.dir!, 'node_modules')), join(pkg, 'node_modules'));
      const entry = fileURLToPath(new URL('./native-binding.ts', import.meta.url));
      const code = `const m = await import(${JSON.stringify(entry)}); console.log(JSON.stringify(await m.loadNativeBinding({ packageDir: ${JSON.stringify(pkg)} })));`;
      const env = { ...process.env };
      delete env['LD_LIBRARY_PATH'];
      const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
        env,
        encoding: 'utf8',
      });
      expect(child.status, child.stderr).toBe(0);
      const status = JSON.parse(child.stdout.trim().split('\n').pop()!);
      expect(status).toMatchObject({ ok: false, kind: 'library-missing' });
      expect(status.reason).toMatch(/cannot load libtensorflow(_cc|_framework)?\.so\.2/);
      expect(status.reason).toContain(`${pkg}/deps/lib`);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});

if (built.skip) describe('native backend on the built binding', () => it.skip(`skipped: ${built.skip}`, () => {}));
