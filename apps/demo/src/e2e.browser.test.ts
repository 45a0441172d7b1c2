// End to end in a real browser: builds the app (vite build), serves dist/ on a random localhost port,
// drives Debian's Chromium (playwright-core, never `playwright install`; WebGPU on SwiftShader), trains
// short vision runs on webgpu and on wasm, downloads the adapter and validates it with core's PEFT loader
// in Node, loads it back from the files, switches adapters, merges/unmerges, and saves a screenshot to
// docs/demo.png (with TFJS_LORA_UPDATE_SCREENSHOT=1; a temporary file otherwise). The app is served cross-origin isolated (COOP/COEP), so wasm runs multi-threaded. Skips with a printed reason when Chromium is absent, unless CI or
// TFJS_LORA_REQUIRE_WEBGPU=1 is set (then it fails).
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

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

interface RunResult {
  backend: string;
  firstLoss: number;
  lastLoss: number;
  baseAccuracy: number;
  accuracy: number;
  baseTestLoss: number;
  testLoss: number;
  seconds: number;
}

describe.skipIf(missing !== null && !REQUIRE)('demo in Chromium', () => {
  let browser: Browser;
  let page: Page;
  let close: () => Promise<void>;
  let url = '';
  let downloads = '';
  const errors: string[] = [];

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
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    page.on('console', (m) => void (m.type() === 'error' && errors.push(`console.error: ${m.text()}`)));
    page.on('worker', (w) =>
      w.on('console', (m) => void (m.type() === 'error' && errors.push(`worker console.error: ${m.text()}`))),
    );
    downloads = await mkdtemp(join(tmpdir(), 'tfjs-lora-demo-'));
  });

  afterAll(async () => {
    await browser?.close();
    await close?.();
    if (downloads) await rm(downloads, { recursive: true, force: true });
  });

  async function useBackend(name: string): Promise<string | null> {
    await page.waitForSelector('body[data-ready=true]', { timeout: 60_000 });
    if ((await page.getAttribute('#backend-status', 'data-backend')) !== name) {
      const option = page.locator(`#backend option[value=${name}]`);
      if (await option.isDisabled()) return (await option.textContent()) ?? `${name} unavailable`;
      await page.selectOption('#backend', name);
      await page.waitForFunction(
        (n) =>
          document.getElementById('backend-status')?.dataset['backend'] === n &&
          document.body.dataset['ready'] === 'true',
        name,
        { timeout: 60_000 },
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
    await page.waitForSelector('#result[data-state]', { timeout: 180_000 });
    const data = await page.$eval('#result', (e) => ({ ...(e as HTMLElement).dataset }));
    expect(data['state'], (await page.textContent('#log')) ?? '').toBe('done');
    return {
      backend: (await page.getAttribute('#backend-status', 'data-backend')) ?? '',
      firstLoss: Number(data['firstLoss']),
      lastLoss: Number(data['lastLoss']),
      baseAccuracy: Number(data['baseAccuracy']),
      accuracy: Number(data['accuracy']),
      baseTestLoss: Number(data['baseTestLoss']),
      testLoss: Number(data['testLoss']),
      seconds: Number(data['seconds']),
    };
  }

  // wasm trains the CNN's four layers in about a second; WebGPU on SwiftShader (CPU) spends most of its
  // time compiling shaders, so its run is LoRA on the dense layers (fused LoraMatMul kernels), 6 steps.
  const ALL = ['conv1', 'conv2', 'fc1', 'head'];
  const WASM_RUN = {
    epochs: '1',
    'train-size': '384',
    'test-size': '300',
    batch: '32',
    lr: '0.006',
    rank: '4',
    alpha: '8',
  };
  const WEBGPU_RUN = {
    epochs: '1',
    'train-size': '192',
    'test-size': '200',
    batch: '32',
    lr: '0.01',
    rank: '4',
    alpha: '8',
  };
  const describeRun = (r: RunResult) =>
    `${r.backend}: training loss ${r.firstLoss.toFixed(3)} -> ${r.lastLoss.toFixed(3)}, test loss ${r.baseTestLoss.toFixed(3)} -> ${r.testLoss.toFixed(3)}, ` +
    `test accuracy ${r.baseAccuracy.toFixed(3)} -> ${r.accuracy.toFixed(3)} (${r.seconds.toFixed(1)} s)`;

  it('trains a short vision run on webgpu (SwiftShader): loss falls, accuracy beats the base model', async () => {
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
    const r = await train('gpu-r4', WEBGPU_RUN, ['fc1', 'head']);
    console.log(describeRun(r));
    expect(r.backend).toBe('webgpu');
    expect(r.lastLoss).toBeLessThan(r.firstLoss);
    expect(r.testLoss).toBeLessThan(r.baseTestLoss);
    expect(r.accuracy).toBeGreaterThan(r.baseAccuracy);
  });

  it('trains on wasm, downloads the adapter as PEFT files that core loads with the trained shapes', async () => {
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
    expect(r.backend).toBe('wasm');
    expect(r.lastLoss).toBeLessThan(r.firstLoss);
    expect(r.testLoss).toBeLessThan(r.baseTestLoss);
    expect(r.accuracy).toBeGreaterThan(r.baseAccuracy);
    // The page's LoRA-vs-full table (r·(fan-in + out) per layer) agrees with core's count.
    expect(await page.textContent('#params tr.total')).toContain('9,036');
    expect(await page.textContent('#params-core')).toContain('9,036 trainable');

    const got = new Map<string, string>();
    const both = new Promise<void>((resolve) => {
      page.on('download', async (d) => {
        const path = join(downloads, d.suggestedFilename());
        await d.saveAs(path);
        got.set(d.suggestedFilename(), path);
        if (got.size === 2) resolve();
      });
    });
    await page.click('#download');
    await both;
    expect([...got.keys()].sort()).toEqual(['wasm-r4-adapter_config.json', 'wasm-r4-adapter_model.safetensors']);
    const dir = join(downloads, 'wasm-r4');
    await mkdir(dir);
    await rename(got.get('wasm-r4-adapter_config.json')!, join(dir, 'adapter_config.json'));
    await rename(got.get('wasm-r4-adapter_model.safetensors')!, join(dir, 'adapter_model.safetensors'));

    await import('@tensorflow/tfjs-backend-cpu');
    const { loadPeftAdapter } = await import('@tfjs-lora/core');
    const adapter = await loadPeftAdapter(dir);
    try {
      expect(adapter.config.r).toBe(4);
      expect(adapter.config.loraAlpha).toBe(8);
      const shapes = Object.fromEntries(
        Object.entries(adapter.tensors).map(([k, t]) => [k.replace('base_model.model.', ''), t.shape]),
      );
      expect(shapes).toEqual({
        'conv1.lora_A.weight': [4, 1, 3, 3],
        'conv1.lora_B.weight': [32, 4, 1, 1],
        'conv2.lora_A.weight': [4, 32, 3, 3],
        'conv2.lora_B.weight': [64, 4, 1, 1],
        'fc1.lora_A.weight': [4, 1600],
        'fc1.lora_B.weight': [128, 4],
        'head.lora_A.weight': [4, 128],
        'head.lora_B.weight': [10, 4],
      });
      // Trained: B started at zero, so a non-zero B shows the download holds the trained weights.
      const b = adapter.tensors['base_model.model.head.lora_B.weight']!;
      expect(Math.max(...Array.from(await b.data()).map(Math.abs))).toBeGreaterThan(0);
    } finally {
      adapter.dispose();
    }
    await page.setInputFiles('#load-file', [join(dir, 'adapter_config.json'), join(dir, 'adapter_model.safetensors')]);
    await page.waitForFunction(() => [...document.querySelectorAll('#adapters option')].length === 2, undefined, {
      timeout: 30_000,
    });
  });

  it('switches adapters, predicts with the adapter off and on, merges and unmerges with latencies', async () => {
    expect(await page.$$eval('#adapters option', (os) => os.map((o) => (o as HTMLOptionElement).value))).toEqual([
      'wasm-r4',
      'from-file',
    ]);
    await page.selectOption('#adapters', 'wasm-r4');
    await page.waitForFunction(() => document.getElementById('adapters')?.dataset['active'] === 'wasm-r4');
    await page.selectOption('#adapters', 'from-file');
    await page.waitForFunction(() => document.getElementById('adapters')?.dataset['active'] === 'from-file');
    await page.click('#test-image');
    await page.waitForSelector('#pred-on[data-top]');
    await page.click('#merge');
    await page.waitForFunction(
      () => /ms/.test(document.getElementById('latency-merged')?.textContent ?? ''),
      undefined,
      { timeout: 60_000 },
    );
    await page.click('#unmerge');
    await page.waitForFunction(
      () => /ms/.test(document.getElementById('latency-unmerged')?.textContent ?? ''),
      undefined,
      { timeout: 60_000 },
    );
    const pad = (await page.locator('#pad').boundingBox())!;
    await page.mouse.move(pad.x + pad.width * 0.3, pad.y + pad.height * 0.2);
    await page.mouse.down();
    for (const [x, y] of [
      [0.7, 0.2],
      [0.45, 0.8],
    ])
      await page.mouse.move(pad.x + pad.width * x!, pad.y + pad.height * y!, { steps: 8 });
    await page.mouse.up();
    await page.waitForFunction(() => /inverted/.test(document.getElementById('preview-label')?.textContent ?? ''));
    await page.click('#save-idb');
    await page.waitForFunction(() => document.querySelectorAll('#idb-list option').length > 0, undefined, {
      timeout: 30_000,
    });
    await mkdir(join(SCREENSHOT, '..'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(errors).toEqual([]);
  });
});
