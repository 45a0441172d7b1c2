// Node side of the train-reads benchmark in headless Chromium: bundles page.ts with esbuild, serves it
// from memory to Debian's Chromium (playwright-core, never `playwright install`) and returns its results.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { TrainReadsOptions } from './measure.js';
import type { PageResult } from './page.js';

const ORIGIN = 'http://localhost:8124'; // localhost is a secure context: navigator.gpu is exposed
const ARGS = ['--enable-unsafe-webgpu', '--no-sandbox', '--disable-background-networking', '--no-first-run'];

/** The page's results with Chromium's version, or why the browser run could not happen. */
export type ChromiumRun = (PageResult & { browserVersion: string }) | { unavailable: string };

/** Runs the measurement in headless Chromium (CHROMIUM_PATH or /usr/bin/chromium). */
export async function runInChromium(options: Partial<TrainReadsOptions>, timeoutMs = 150_000): Promise<ChromiumRun> {
  const executablePath = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
  if (!existsSync(executablePath))
    return { unavailable: `${executablePath} not found (Debian: apt-get install -y chromium; or set CHROMIUM_PATH)` };
  const esbuild = await import('esbuild');
  const bundle = await esbuild.build({
    entryPoints: [fileURLToPath(new URL('./page.ts', import.meta.url))],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
    external: ['node:*', 'webgpu'], // Node-only paths of the plugin, behind imports that never run in a page
  });
  const script = bundle.outputFiles[0]!.text;
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath, headless: true, args: ARGS });
  const errors: string[] = [];
  try {
    const page = await browser.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
    await page.route(`${ORIGIN}/**`, (route) => {
      const path = new URL(route.request().url()).pathname;
      if (path === '/')
        return route.fulfill({
          contentType: 'text/html',
          body: '<!doctype html><script type="module" src="/page.js"></script>',
        });
      if (path === '/page.js') return route.fulfill({ contentType: 'text/javascript', body: script });
      return route.fulfill({ status: 404, body: 'not found' });
    });
    await page.goto(`${ORIGIN}/`);
    await page.waitForFunction(() => 'runTrainReads' in globalThis, undefined, { timeout: 30_000 });
    const hasGpu = await page.evaluate(() => 'gpu' in navigator);
    if (!hasGpu) return { unavailable: 'navigator.gpu is undefined in the page (Chromium without WebGPU)' };
    page.setDefaultTimeout(timeoutMs);
    const result = await page.evaluate(
      (o) =>
        (globalThis as unknown as { runTrainReads(o: Partial<TrainReadsOptions>): Promise<PageResult> }).runTrainReads(
          o,
        ),
      options,
    );
    return { ...result, browserVersion: browser.version() };
  } catch (e) {
    return {
      unavailable: `${(e as Error).message.split('\n')[0]}${errors.length ? `; page errors: ${errors.join(' | ')}` : ''}`,
    };
  } finally {
    await browser.close();
  }
}
