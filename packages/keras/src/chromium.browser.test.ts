// The loader in a browser: headless Debian Chromium (playwright-core, never `playwright install`) runs a page
// bundled with esbuild (tfjs cpu backend, core, this package: fflate and jsfive as the browser gets them),
// which loads fixtures through loadPretrained from an http URL and returns its outputs; Node compares them
// with Keras's. Skips with the reason when Chromium is absent.
import '@tensorflow/tfjs-backend-cpu';
import { readSafetensorsFile } from '@tfjs-lora/test-support';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FIXTURES } from '../test-support/fixtures.js';

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const ORIGIN = 'http://localhost:8124';
const NAMES = ['mobilenet_v2', 'recurrent', 'residual'];

const PAGE = `
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { loadPretrained } from '@tfjs-lora/core';
import { registerKerasFormat } from './index.ts';
globalThis.runKeras = async (cases) => {
  // esbuild drops the entry's import-time registration here (package.json's sideEffects names the dist
  // files, this page bundles src/): the explicit call is what bundlers that drop side effects need.
  registerKerasFormat();
  await tf.setBackend('cpu');
  const results = {};
  for (const { name, inputs } of cases) {
    const model = await loadPretrained('${ORIGIN}/fixtures/' + name + '.keras');
    const xs = inputs.map((x) => tf.tensor(x.values, x.shape, x.dtype));
    const y = model.predict(xs.length === 1 ? xs[0] : xs);
    const first = Array.isArray(y) ? y[0] : y;
    results[name] = { values: Array.from(await first.data()), shape: first.shape };
    tf.dispose([...xs, ...(Array.isArray(y) ? y : [y])]);
    model.dispose();
  }
  return { results, tensors: tf.memory().numTensors };
};
`;

async function bundle(): Promise<string> {
  const esbuild = await import('esbuild');
  const out = await esbuild.build({
    stdin: { contents: PAGE, resolveDir: fileURLToPath(new URL('.', import.meta.url)), loader: 'js' },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
    external: ['node:*'],
  });
  return out.outputFiles[0]!.text;
}

describe('loadKerasModel in Chromium (cpu backend)', () => {
  if (!existsSync(CHROMIUM)) {
    console.warn(`skipped: ${CHROMIUM} not found (Debian: apt-get install -y chromium; or set CHROMIUM_PATH)`);
    it.skip(`Chromium not found at ${CHROMIUM}`, () => {});
    return;
  }
  it("loads .keras files from a URL and gives Keras's outputs within 1e-4", async () => {
    const script = await bundle();
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
    const errors: string[] = [];
    try {
      const page = await browser.newPage();
      page.on('pageerror', (e) => errors.push(e.message));
      await page.route(`${ORIGIN}/**`, async (route) => {
        const path = new URL(route.request().url()).pathname;
        if (path === '/')
          return route.fulfill({ contentType: 'text/html', body: '<script type="module" src="/page.js"></script>' });
        if (path === '/page.js') return route.fulfill({ contentType: 'text/javascript', body: script });
        const file = `${FIXTURES}${path.slice('/fixtures/'.length)}`;
        if (path.startsWith('/fixtures/') && /^[\w.]+$/.test(path.slice(10)) && existsSync(file))
          return route.fulfill({ body: await readFile(file), contentType: 'application/octet-stream' });
        return route.fulfill({ status: 404, body: 'not found' });
      });
      await page.goto(`${ORIGIN}/`);
      await page
        .waitForFunction(() => 'runKeras' in globalThis, undefined, { timeout: 30_000 })
        .catch((e) => {
          throw new Error(`the page did not start: ${(e as Error).message}; page errors: ${errors.join(' | ')}`);
        });
      const io = Object.fromEntries(NAMES.map((n) => [n, readSafetensorsFile(`${FIXTURES}${n}.io.safetensors`)]));
      const cases = await Promise.all(
        NAMES.map(async (name) => ({
          name,
          inputs: await Promise.all(
            Object.keys(io[name]!)
              .filter((k) => k.startsWith('input_'))
              .sort()
              .map(async (k) => {
                const t = io[name]![k]!;
                return { values: Array.from(await t.data()), shape: t.shape, dtype: t.dtype };
              }),
          ),
        })),
      );
      const run = (await page.evaluate(
        (c) => (globalThis as unknown as { runKeras(c: unknown): Promise<unknown> }).runKeras(c),
        cases,
      )) as { results: Record<string, { values: number[]; shape: number[] }>; tensors: number };
      expect(errors).toEqual([]);
      expect(run.tensors).toBe(0);
      for (const name of NAMES) {
        const expected = io[name]!['output_0']!;
        const got = run.results[name]!;
        expect(got.shape).toEqual(expected.shape);
        const want = await expected.data();
        const diff = got.values.reduce((m, v, i) => Math.max(m, Math.abs(v - want[i]!)), 0);
        expect(diff, name).toBeLessThan(1e-4);
      }
      for (const tensors of Object.values(io)) for (const t of Object.values(tensors)) t.dispose();
    } finally {
      await browser.close();
    }
  }, 120_000);
});
