// Saving is atomic per directory: a failure while writing or replacing leaves the previous adapter's files
// byte for byte, and no temporary files behind.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import * as realFs from 'node:fs/promises';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LoraError } from '../errors/index.js';
import { applyLora } from '../apply-lora.js';
import type { LoraModel } from '../lora-model.js';
import { loadPeftAdapter } from './load.js';
import type { NodeFs } from '../node/fs.js';
import { savePeftAdapter } from './save.js';

/** The real file system with one call of one function failing. */
function failing(fn: 'writeFile' | 'rename', onCall: number): NodeFs {
  let calls = 0;
  const fs = { ...realFs } as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
  const original = fs[fn]!;
  fs[fn] = async (...args: unknown[]) => {
    if (++calls === onCall) throw new Error(`injected ${fn} failure (ENOSPC)`);
    return original(...args);
  };
  return fs as unknown as NodeFs;
}

describe('savePeftAdapter is atomic', () => {
  let tmp: string;
  let dir: string;
  let base: tfl.LayersModel;
  let oldLm: LoraModel;
  let newLm: LoraModel;
  let oldFiles: Record<string, Buffer>;

  beforeAll(async () => {
    await tf.setBackend('cpu');
    tmp = mkdtempSync(join(tmpdir(), 'tfjs-lora-atomic-'));
    base = tfl.sequential({ layers: [tfl.layers.dense({ name: 'fc', units: 5, inputShape: [4] })] });
    oldLm = applyLora(base, { r: 2, targetModules: ['fc'], initLoraWeights: 'gaussian' }, { seed: 1 });
    newLm = applyLora(base, { r: 3, loraAlpha: 6, targetModules: ['fc'], initLoraWeights: 'gaussian' }, { seed: 2 });
  });
  afterAll(() => {
    [oldLm, newLm].forEach((m) => m.dispose());
    base.dispose();
    rmSync(tmp, { recursive: true, force: true });
  });
  beforeEach(async () => {
    dir = mkdtempSync(join(tmp, 'run-'));
    await savePeftAdapter(oldLm, dir);
    oldFiles = Object.fromEntries(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f))]));
  });

  function expectOldIntact(): void {
    expect(readdirSync(dir).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
    for (const [f, bytes] of Object.entries(oldFiles)) expect(readFileSync(join(dir, f)).equals(bytes), f).toBe(true);
  }

  it('replaces both files on success, leaving no temporary files', async () => {
    await savePeftAdapter(newLm, dir);
    expect(readdirSync(dir).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
    const adapter = await loadPeftAdapter(dir);
    expect(adapter.config.r).toBe(3);
    adapter.dispose();
  });

  it.each([
    ['writing the second temporary file', failing('writeFile', 2)],
    ['renaming the first file into place', failing('rename', 1)],
    ['renaming the second file into place (the first is rolled back)', failing('rename', 2)],
  ])('a failure while %s leaves the old adapter', async (_what, fs) => {
    const err = await savePeftAdapter(newLm, dir, { fs }).catch((e: unknown) => e);
    expect(LoraError.isInstance(err)).toBe(true);
    expect((err as Error).message).toMatch(/injected .* failure.*the files already there are unchanged/);
    expectOldIntact();
    const adapter = await loadPeftAdapter(dir);
    expect(adapter.config.r).toBe(2);
    adapter.dispose();
  });

  it('a real rename failure (adapter_config.json is a directory) restores the weights file', async () => {
    rmSync(join(dir, 'adapter_config.json'));
    mkdirSync(join(dir, 'adapter_config.json'));
    writeFileSync(join(dir, 'adapter_config.json', 'keep'), 'x');
    await expect(savePeftAdapter(newLm, dir)).rejects.toThrow(/replacing the old files/);
    expect(readFileSync(join(dir, 'adapter_model.safetensors')).equals(oldFiles['adapter_model.safetensors']!)).toBe(
      true,
    );
    expect(readdirSync(dir).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
  });
});
