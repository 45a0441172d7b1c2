// End to end in a real browser: builds the app (vite build), serves dist/ on a random localhost port,
// drives Debian's Chromium (playwright-core, never `playwright install`; WebGPU on SwiftShader). On webgpu
// (asserted from the page: the worker's tf.getBackend()) it trains, downloads the adapter and validates it
// with core's PEFT loader in Node, loads it back from the files, switches adapters, predicts, merges and
// unmerges, and saves to IndexedDB; then the same on wasm with LoRA on all four layers, and a screenshot to
// docs/demo.png (with TFJS_LORA_UPDATE_SCREENSHOT=1; a temporary file otherwise). Any console error (page
// or worker, including the worker's guard against synchronous GPU reads and errors the page reports) or
// page error fails the test at once. The app is served cross-origin isolated (COOP/COEP), so wasm runs
// multi-threaded. Skips with a printed reason when Chromium is absent, unless CI or
// TFJS_LORA_REQUIRE_WEBGPU=1 is set (then it fails, as does an unavailable webgpu backend).
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  ALL,
  checkPeftDownload,
  DENSE_SHAPES,
  describeRun,
  expectLearned,
  WASM_RUN,
  WEBGPU_RUN,
  type RunResult,
} from './e2e-support.js';

const APP = fileURLToPath(new URL('..', import.meta.url));
// The README's screenshot is rewritten only when asked (TFJS_LORA_UPDATE_SCREENSHOT=1): a test run leaves the tree clean.
const SCREENSHOT =
  process.env['TFJS_LORA_UPDATE_SCREENSHOT'] === '1'
    ? fileURLToPath(new URL('../../../docs/demo.png', import.meta.url))
    : join(tmpdir(), 'tfjs-lora-demo.png');
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const REQUIRE = process.env['TFJS_LORA_REQUIRE_WEBGPU'] === '1' || !!process.env['CI'];
const ARGS = [
  '--enable-unsafe-webgpu',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
const missing = existsSync(CHROMIUM)
  ? null
  : `${CHROMIUM} not found (Debian: apt-get install -y chromium; or set CHROMIUM_PATH)`;

if (missing && !REQUIRE) console.warn(`demo e2e: skipped: ${missing}`);

type Page = import('playwright-core').Page;
type Browser = import('playwright-core').Browser;

describe.skipIf(missing !== null && !REQUIRE)('demo in Chromium', () => {
  let browser: Browser;
  let page: Page;
  let close: () => Promise<void>;
  let url = '';
  let downloads = '';
  const errors: string[] = [];
  let failNow: (e: Error) => void = () => {};
  // Rejects at the first console or page error: every wait below races it, so a failure shows at once.
  const failed = new Promise<never>((_, reject) => {
    failNow = reject;
  });
  failed.catch(() => {}); // read by the races below and by the final checks
  const report = (line: string): void => {
    errors.push(line);
    failNow(new Error(`the demo reported an error: ${line}`));
  };
  const guarded = <T>(p: Promise<T>): Promise<T> => Promise.race([p, failed]);
  let t0 = Date.now();
  const phase = (what: string): void => {
    console.log(`demo e2e: ${what} after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    t0 = Date.now();
  };
  // tfjs-backend-webgpu's own warning at its first synchronous read of GPU data (the worker's guard reports
  // each read with a stack as console.error as well).
  const SYNC_READ_WARNING = /synchronously reading data from GPU/;
  const onConsole = (where: string) => (m: import('playwright-core').ConsoleMessage) => {
    if (m.type() === 'error' || (m.type() === 'warning' && SYNC_READ_WARNING.test(m.text())))
      report(`${where} console.${m.type()}: ${m.text()}`);
  };

  beforeAll(async () => {
    if (missing) throw new Error(`required here (CI or TFJS_LORA_REQUIRE_WEBGPU=1) but ${missing}`);
    const vite = await import('vite');
    await vite.build({ root: APP, logLevel: 'warn', configFile: join(APP, 'vite.config.ts') });
    const server = await vite.preview({
      root: APP,
      configFile: join(APP, 'vite.config.ts'),
      logLevel: 'warn',
      preview: { port: 0, host: '127.0.0.1', strictPort: false, open: false },
    });
    const address = server.httpServer.address();
    if (!address || typeof address === 'string') throw new Error(`vite preview gave no port (${String(address)})`);
    url = `http://localhost:${address.port}/`; // localhost: a secure context, so navigator.gpu exists
    close = () => server.close();
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
    const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1400, height: 1000 } });
    page = await context.newPage();
    page.on('pageerror', (e) => report(`pageerror: ${e.message}`));
    page.on('console', onConsole('page'));
    page.on('worker', (w) => w.on('console', onConsole('worker')));
    downloads = await mkdtemp(join(tmpdir(), 'tfjs-lora-demo-'));
  });

  // A failed test prints the page's log (the worker's messages and the errors the page caught).
  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail' && page)
      console.log(`demo e2e: the page's log:\n${await page.textContent('#log').catch(String)}`);
  });

  afterAll(async () => {
    await browser?.close();
    await close?.();
    if (downloads) await rm(downloads, { recursive: true, force: true });
  });

  async function useBackend(name: string): Promise<string | null> {
    await guarded(page.waitForSelector('body[data-ready=true]', { timeout: 60_000 }));
    if ((await page.getAttribute('#backend-status', 'data-backend')) !== name) {
      const option = page.locator(`#backend option[value=${name}]`);
      if (await option.isDisabled()) return (await option.textContent()) ?? `${name} unavailable`;
      await page.selectOption('#backend', name);
      await guarded(
        page.waitForFunction(
          (n) =>
            document.getElementById('backend-status')?.dataset['backend'] === n &&
            document.body.dataset['ready'] === 'true',
          name,
          { timeout: 60_000 },
        ),
      );
    }
    return null;
  }

  async function train(adapterName: string, settings: Record<string, string>, targets: string[]): Promise<RunResult> {
    for (const [id, value] of Object.entries({ 'adapter-name': adapterName, ...settings }))
      await page.fill(`#${id}`, value);
    for (const t of ['conv1', 'conv2', 'fc1', 'head'])
      await page.setChecked(`input[name=target][value=${t}]`, targets.includes(t));
    await page.click('#train');
    await guarded(page.waitForSelector('#result[data-state]', { timeout: 180_000 }));
    const data = await page.$eval('#result', (e) => ({ ...(e as HTMLElement).dataset }));
    expect(data['state'], (await page.textContent('#log')) ?? '').toBe('done');
    return {
      backend: (await page.getAttribute('#backend-status', 'data-backend')) ?? '',
      tfBackend: data['tfBackend'] ?? '',
      firstLoss: Number(data['firstLoss']),
      lastLoss: Number(data['lastLoss']),
      baseAccuracy: Number(data['baseAccuracy']),
      accuracy: Number(data['accuracy']),
      baseTestLoss: Number(data['baseTestLoss']),
      testLoss: Number(data['testLoss']),
      seconds: Number(data['seconds']),
    };
  }

  /** Clicks Download and checks the two PEFT files with core's loader in Node: config, every shape, trained B. */
  async function downloadAndCheck(name: string, shapes: Record<string, number[]>): Promise<string> {
    const got = new Map<string, string>();
    const both = new Promise<void>((resolve) => {
      const onDownload = async (d: import('playwright-core').Download) => {
        const path = join(downloads, d.suggestedFilename());
        await d.saveAs(path);
        got.set(d.suggestedFilename(), path);
        if (got.size === 2) {
          page.off('download', onDownload);
          resolve();
        }
      };
      page.on('download', onDownload);
    });
    await page.click('#download');
    await guarded(both);
    expect([...got.keys()].sort()).toEqual([`${name}-adapter_config.json`, `${name}-adapter_model.safetensors`]);
    const dir = join(downloads, name);
    await mkdir(dir);
    await rename(got.get(`${name}-adapter_config.json`)!, join(dir, 'adapter_config.json'));
    await rename(got.get(`${name}-adapter_model.safetensors`)!, join(dir, 'adapter_model.safetensors'));
    await checkPeftDownload(dir, shapes);
    return dir;
  }

  /** Loads the files back, switches between the two adapters, predicts, merges and unmerges (latencies). */
  async function loadSwitchMerge(dir: string, trained: string): Promise<void> {
    await page.setInputFiles('#load-file', [join(dir, 'adapter_config.json'), join(dir, 'adapter_model.safetensors')]);
    await guarded(
      page.waitForFunction(() => [...document.querySelectorAll('#adapters option')].length === 2, undefined, {
        timeout: 30_000,
      }),
    );
    expect(await page.$$eval('#adapters option', (os) => os.map((o) => (o as HTMLOptionElement).value))).toEqual([
      trained,
      'from-file',
    ]);
    for (const name of [trained, 'from-file']) {
      await page.selectOption('#adapters', name);
      await guarded(page.waitForFunction((n) => document.getElementById('adapters')?.dataset['active'] === n, name));
    }
    await page.$eval('#pred-on', (e) => e.removeAttribute('data-top'));
    await page.click('#test-image');
    await guarded(page.waitForSelector('#pred-on[data-top]', { timeout: 60_000 }));
    phase('predicted');
    for (const [button, cell] of [
      ['#merge', 'latency-merged'],
      ['#unmerge', 'latency-unmerged'],
    ] as const) {
      await page.$eval(`#${cell}`, (e) => void (e.textContent = '–'));
      await page.click(button);
      await guarded(
        page.waitForFunction((id) => /ms/.test(document.getElementById(id)?.textContent ?? ''), cell, {
          timeout: 120_000,
        }),
      );
      phase(button);
    }
  }

  /** Activates adapter `name`, saves it to IndexedDB and waits for it in the list. */
  async function saveToIdb(name: string): Promise<void> {
    await page.selectOption('#adapters', name);
    await guarded(page.waitForFunction((n) => document.getElementById('adapters')?.dataset['active'] === n, name));
    await page.click('#save-idb');
    await guarded(
      page.waitForFunction(
        (n) => [...document.querySelectorAll('#idb-list option')].some((o) => o.textContent?.endsWith(`/${n}`)),
        name,
        { timeout: 30_000 },
      ),
    );
  }

  it('on webgpu (SwiftShader): trains, downloads, loads back, predicts, merges, unmerges, saves; no sync GPU read', async () => {
    const response = await page.goto(`${url}?backend=webgpu`);
    // Cross-origin isolated (vite.config.ts headers), which wasm threads need; same-origin assets all load.
    expect(response?.headers()['cross-origin-opener-policy']).toBe('same-origin');
    expect(response?.headers()['cross-origin-embedder-policy']).toBe('require-corp');
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    const unavailable = await useBackend('webgpu');
    if (unavailable) {
      if (REQUIRE) throw new Error(`webgpu required here but unavailable: ${unavailable}`);
      console.warn(`demo e2e: webgpu run skipped: ${unavailable}`);
      return;
    }
    expect(await page.textContent('#backend-status')).toBe('running on webgpu');
    const r = await train('gpu-r4', WEBGPU_RUN, ['fc1', 'head']);
    console.log(describeRun(r));
    expectLearned(r, 'webgpu');
    phase('webgpu trained');
    const dir = await downloadAndCheck('gpu-r4', DENSE_SHAPES);
    phase('webgpu downloaded');
    await loadSwitchMerge(dir, 'gpu-r4');
    phase('webgpu loaded, switched, predicted, merged, unmerged');
    await saveToIdb('gpu-r4');
    phase('webgpu saved to IndexedDB');
    expect(await page.getAttribute('#backend-status', 'data-backend')).toBe('webgpu');
    expect(errors).toEqual([]);
  }, 600_000);

  it('on wasm (threads): trains all four layers, downloads, loads back, merges, unmerges, saves', async () => {
    if (!page.url().startsWith(url)) await page.goto(`${url}?backend=wasm`);
    expect(await useBackend('wasm')).toBeNull();
    // The worker is isolated too, and wasm runs one thread per core (at most 8) where there are two or more.
    const status = await page.$eval('#backend-status', (e): Record<string, string | undefined> => ({
      ...(e as HTMLElement).dataset,
      text: e.textContent ?? '',
    }));
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    const threads = Number(status['threads']);
    expect(status['isolated']).toBe('true');
    expect(status['text']).toBe(`running on wasm, ${threads} thread${threads === 1 ? '' : 's'}`);
    if (cores >= 2) expect(threads).toBeGreaterThanOrEqual(2);
    else expect(threads).toBe(1);
    const r = await train('wasm-r4', WASM_RUN, ALL);
    console.log(`${describeRun(r)}, ${threads} threads on ${cores} cores`);
    expectLearned(r, 'wasm');
    // The page's LoRA-vs-full table (r·(fan-in + out) per layer) agrees with core's count.
    expect(await page.textContent('#params tr.total')).toContain('9,036');
    expect(await page.textContent('#params-core')).toContain('9,036 trainable');
    const dir = await downloadAndCheck('wasm-r4', {
      'conv1.lora_A.weight': [4, 1, 3, 3],
      'conv1.lora_B.weight': [32, 4, 1, 1],
      'conv2.lora_A.weight': [4, 32, 3, 3],
      'conv2.lora_B.weight': [64, 4, 1, 1],
      ...DENSE_SHAPES,
    });
    await loadSwitchMerge(dir, 'wasm-r4');
    const pad = (await page.locator('#pad').boundingBox())!;
    await page.mouse.move(pad.x + pad.width * 0.3, pad.y + pad.height * 0.2);
    await page.mouse.down();
    for (const [x, y] of [
      [0.7, 0.2],
      [0.45, 0.8],
    ])
      await page.mouse.move(pad.x + pad.width * x!, pad.y + pad.height * y!, { steps: 8 });
    await page.mouse.up();
    await guarded(
      page.waitForFunction(() => /inverted/.test(document.getElementById('preview-label')?.textContent ?? '')),
    );
    await saveToIdb('wasm-r4');
    await mkdir(join(SCREENSHOT, '..'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(errors).toEqual([]);
  });
});
