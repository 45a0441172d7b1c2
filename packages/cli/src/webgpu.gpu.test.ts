// The CLI on WebGPU in Node: `train` (vision, a short run) → `inspect` → `merge --safe-merge`, each with
// `--backend webgpu`, against the same commands with `--backend cpu`. Nothing in the CLI reads
// synchronously, which tfjs-backend-webgpu cannot do in Node. Without WebGPU this file prints why and skips
// (TFJS_LORA_REQUIRE_WEBGPU=1 makes that a failure).
import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { getLoraBackend } from '@tfjs-lora/core';
import { loadModelFiles } from '@tfjs-lora/core/node';
import type { CliIO } from './command.js';
import { runCli } from './run.js';

process.env['WEBGPU_CPU_HANDOFF_SIZE_THRESHOLD'] = '0'; // every op on the GPU, none handed to the CPU
await import('@tfjs-lora/backend-webgpu');
const avail = (await getLoraBackend('webgpu')?.isAvailable()) ?? { ok: false, reason: 'no webgpu backend registered' };
if (!avail.ok) {
  if (process.env['TFJS_LORA_REQUIRE_WEBGPU'] === '1')
    throw new Error(
      `webgpu.gpu.test.ts: WebGPU is required (TFJS_LORA_REQUIRE_WEBGPU=1) but unavailable: ${avail.reason}`,
    );
  console.warn(`SKIP webgpu.gpu.test.ts: WebGPU unavailable here: ${avail.reason}`);
}

const BASE_MODEL = fileURLToPath(new URL('../../vision/models/mnist-cnn/model.json', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'tfjs-lora-cli-gpu-'));

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIO = { out: (t) => void (out += t), err: (t) => void (err += t) };
  const code = await runCli(argv, { io });
  return { code, out, err };
}

interface ModuleRow {
  path: string;
  params: number;
  deltaNorm: number;
}

async function pipeline(backend: string): Promise<{ modules: ModuleRow[]; merged: Float32Array[]; trainOut: string }> {
  const out = join(dir, backend);
  const trained = await cli([
    'train',
    '--task',
    'vision',
    '--domain',
    'mnist-inverted-rotated',
    '--rank',
    '2',
    '--epochs',
    '1',
    '--train-size',
    '64',
    '--test-size',
    '64',
    '--methods',
    'lora',
    '--backend',
    backend,
    '--out',
    out,
  ]);
  expect(trained.err).toBe('');
  expect(trained.code).toBe(0);
  const adapter = join(out, 'mnist-inverted-rotated', 'lora-r2');
  const inspected = await cli(['inspect', adapter, '--json', '--backend', backend]);
  expect(inspected.code).toBe(0);
  const modules = (JSON.parse(inspected.out) as { modules: ModuleRow[] }).modules;
  const mergedDir = join(out, 'merged');
  const merged = await cli([
    'merge',
    '--model',
    BASE_MODEL,
    '--adapter',
    adapter,
    '--out',
    mergedDir,
    '--safe-merge',
    '--backend',
    backend,
  ]);
  expect(merged.err).toBe('');
  expect(merged.code).toBe(0);
  expect(merged.out).toMatch(/merged 4 LoRA module\(s\)/);
  await tf.setBackend('cpu');
  const { model } = await loadModelFiles(join(mergedDir, 'model.json'));
  const weights = await Promise.all(model.weights.map(async (w) => (await w.read().data()) as Float32Array));
  model.dispose();
  return { modules, merged: weights, trainOut: trained.out };
}

describe.skipIf(!avail.ok)('tfjs-lora on --backend webgpu', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('train → inspect → merge --safe-merge match the same commands on cpu', { timeout: 600_000 }, async () => {
    const gpu = await pipeline('webgpu');
    expect(gpu.trainOut).toContain('tfjs-lora train --task vision on webgpu');
    const cpu = await pipeline('cpu');
    expect(cpu.trainOut).toContain('on cpu');
    expect(gpu.modules.map((m) => [m.path, m.params])).toEqual(cpu.modules.map((m) => [m.path, m.params]));
    gpu.modules.forEach((m, i) => {
      const ref = cpu.modules[i]!.deltaNorm;
      expect(ref).toBeGreaterThan(0); // one Adam step moved B off zero
      expect(Math.abs(m.deltaNorm - ref) / ref).toBeLessThan(1e-3);
    });
    // The merged models: same weights on both backends (and not the base model's).
    const { model: base } = await loadModelFiles(BASE_MODEL);
    const baseWeights = await Promise.all(base.weights.map(async (w) => (await w.read().data()) as Float32Array));
    base.dispose();
    expect(gpu.merged).toHaveLength(cpu.merged.length);
    let changed = 0;
    gpu.merged.forEach((w, i) => {
      const ref = cpu.merged[i]!;
      let diff = 0;
      for (let k = 0; k < w.length; k++) {
        diff = Math.max(diff, Math.abs(w[k]! - ref[k]!));
        changed = Math.max(changed, Math.abs(ref[k]! - baseWeights[i]![k]!));
      }
      expect(diff).toBeLessThan(1e-4);
    });
    expect(changed).toBeGreaterThan(1e-4);
  });
});
