// Sources and targets other than directories: tf.io handlers (memory, routers, browser files), http(s),
// the single-file form, and the errors for what this environment cannot do.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES_ROOT, peftCasePath, startHubServer, type HubServer } from '@tfjs-lora/test-support';
import * as tfl from '@tensorflow/tfjs-layers';
import { AdapterFormatError, LoraError } from '../errors/index.js';
import { applyLora } from '../apply-lora.js';
import type { PeftAdapter } from './adapter.js';
import { fromSingleFile, toSingleFile, type PeftAdapterFiles } from './files.js';
import { peftBrowserFiles, peftDownloads } from './io.js';
import { loadPeftAdapter, readPeftFiles } from './load.js';
import { encodePeftAdapter, savePeftAdapter } from './save.js';

const LINEAR = join(peftCasePath('linear'), 'adapter');

function sameAdapter(a: PeftAdapter, b: PeftAdapter): void {
  expect(Object.keys(a.tensors).sort()).toEqual(Object.keys(b.tensors).sort());
  for (const k of Object.keys(a.tensors))
    expect(Array.from(a.tensors[k]!.dataSync()), k).toEqual(Array.from(b.tensors[k]!.dataSync()));
  expect(a.config).toEqual(b.config);
}

describe('PEFT adapter I/O', () => {
  let files: PeftAdapterFiles;
  let reference: PeftAdapter;
  let tmp: string;
  let hub: HubServer;

  beforeAll(async () => {
    await tf.setBackend('cpu');
    files = await readPeftFiles(LINEAR);
    reference = await loadPeftAdapter(LINEAR);
    tmp = mkdtempSync(join(tmpdir(), 'tfjs-lora-io-'));
    // the fixture files over http: <endpoint>/peft-cases/<case>/resolve/main/<path in the case's folder>
    hub = await startHubServer((repo, file) => join(FIXTURES_ROOT, repo, file));
  });
  afterAll(async () => {
    reference.dispose();
    rmSync(tmp, { recursive: true, force: true });
    await hub.close();
  });

  it('goes through tfjs own IOHandlers: withSaveHandler, then fromMemory', async () => {
    const base = tfl.sequential({ layers: [tfl.layers.dense({ name: 'fc', units: 32, inputShape: [16] })] });
    const lm = applyLora(base, reference);
    let saved: tf.io.ModelArtifacts | undefined;
    await savePeftAdapter(
      lm,
      tf.io.withSaveHandler(async (a) => {
        saved = a;
        return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(a) };
      }),
    );
    expect(saved!.format).toBe('peft-lora-safetensors');
    const back = await loadPeftAdapter(tf.io.fromMemory(saved!));
    sameAdapter(back, reference);
    back.dispose();
    lm.dispose();
    base.dispose();
  });

  it('routes tf.io URL schemes through registered routers (as indexeddb:// in a browser)', async () => {
    const store = new Map<string, tf.io.ModelArtifacts>();
    // tfjs routers return null for URLs they do not handle (its IORouter type says IOHandler)
    const handler = ((url: string | string[]): tf.io.IOHandler | null => {
      const u = String(url);
      if (!u.startsWith('memtest://')) return null;
      return {
        save: async (a) => {
          store.set(u, a);
          return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(a) };
        },
        load: async () => store.get(u)!,
      };
    }) as (url: string | string[]) => tf.io.IOHandler;
    tf.io.registerSaveRouter(handler);
    tf.io.registerLoadRouter(handler);
    const base = tfl.sequential({ layers: [tfl.layers.dense({ name: 'fc', units: 32, inputShape: [16] })] });
    const lm = applyLora(base, reference);
    await savePeftAdapter(lm, 'memtest://my-adapter');
    const back = await loadPeftAdapter('memtest://my-adapter');
    sameAdapter(back, reference);
    back.dispose();
    lm.dispose();
    base.dispose();
  });

  it('loads user-selected files (peftBrowserFiles) and explains a wrong selection', async () => {
    const picked = [
      new File([readFileSync(join(LINEAR, 'adapter_config.json'))], 'adapter_config.json'),
      new File([readFileSync(join(LINEAR, 'adapter_model.safetensors'))], 'adapter_model.safetensors'),
    ];
    const back = await loadPeftAdapter(peftBrowserFiles(picked));
    sameAdapter(back, reference);
    back.dispose();
    await expect(loadPeftAdapter(peftBrowserFiles(picked.slice(0, 1)))).rejects.toThrow(
      /Expected two files.*found adapter_config.json/,
    );
  });

  it('fetches a directory URL over http and reports a missing file with its status', async () => {
    const back = await loadPeftAdapter(hub.url('peft-cases/linear', 'adapter'));
    sameAdapter(back, reference);
    back.dispose();
    await expect(loadPeftAdapter(hub.url('peft-cases/nothing', ''))).rejects.toThrow(/HTTP 404/);
  });

  it('round-trips the single-file form (config in __metadata__) and splits it back into PEFT bytes', async () => {
    const single = toSingleFile(files);
    const path = join(tmp, 'linear.safetensors');
    writeFileSync(path, single);
    const back = await loadPeftAdapter(path);
    sameAdapter(back, reference);
    back.dispose();
    const split = fromSingleFile(single);
    expect(
      Buffer.from(split.weights as Uint8Array).equals(readFileSync(join(LINEAR, 'adapter_model.safetensors'))),
    ).toBe(true);
    expect(split.config).toEqual(JSON.parse(readFileSync(join(LINEAR, 'adapter_config.json'), 'utf8')));
  });

  it('explains what is not an adapter directory', async () => {
    await expect(loadPeftAdapter(join(tmp, 'missing'))).rejects.toThrow(/the path does not exist/);
    const pickle = join(tmp, 'pickle');
    mkdirSync(pickle);
    writeFileSync(join(pickle, 'adapter_config.json'), '{}');
    writeFileSync(join(pickle, 'adapter_model.bin'), 'x');
    await expect(loadPeftAdapter(pickle)).rejects.toThrow(/PyTorch pickle.*safe_serialization=True/);
    const parent = join(tmp, 'parent');
    mkdirSync(join(parent, 'style'), { recursive: true });
    writeFileSync(join(parent, 'style', 'adapter_config.json'), '{}');
    const err = await loadPeftAdapter(parent).catch((e: unknown) => e);
    expect(AdapterFormatError.isInstance(err)).toBe(true);
    expect((err as Error).message).toMatch(/sub-folders, as PEFT saves them: .*style/);
    writeFileSync(join(tmp, 'plain.safetensors'), files.weights as Uint8Array);
    await expect(loadPeftAdapter(join(tmp, 'plain.safetensors'))).rejects.toThrow(
      /is a file; expected a PEFT adapter directory/,
    );
  });

  it('says which browser-only targets need a browser', async () => {
    const base = tfl.sequential({ layers: [tfl.layers.dense({ name: 'fc', units: 32, inputShape: [16] })] });
    const lm = applyLora(base, reference);
    const idb = await savePeftAdapter(lm, 'indexeddb://x').catch((e: unknown) => e);
    expect(LoraError.isInstance(idb)).toBe(true);
    expect((idb as Error).message).toMatch(
      /No tf.io save handler for 'indexeddb:\/\/x'.*IndexedDB exists in browsers only/,
    );
    await expect(peftDownloads('a-').save!(tf.io.fromMemory({}) as unknown as tf.io.ModelArtifacts)).rejects.toThrow(
      /needs a browser page/,
    );
    await expect(savePeftAdapter(lm, 'downloads://a-')).rejects.toThrow(/needs a browser page/);
    expect(encodePeftAdapter(lm).config).toMatchObject({ r: 4, lora_alpha: 8 });
    lm.dispose();
    base.dispose();
  });
});
