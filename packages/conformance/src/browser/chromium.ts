// Node side of the browser run: bundles the page entry with esbuild, starts Debian's Chromium headless
// through playwright-core (never `playwright install`), serves the bundle and the fixtures from memory
// and disk through request interception, and returns what the page reports.
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HfFamily } from '../checks/hf-models.js';
import { defaultHfFixtureRoots, listHfFixtures, type HfFixtureRoot } from '../hf-fixtures-node.js';
import { LAYER_KIND_PACKAGES } from '../layer-kind-packages.js';
import type { CheckResult } from '../suite.js';
import type { KnownGap } from '../types.js';
import { MISSING_ADAPTERS_GLOBAL, type PageRequest, type PageResponse } from './protocol.js';

/** Chromium flags: WebGPU on (SwiftShader without a GPU), no sandbox (root in CI), no background traffic. */
export const CHROMIUM_ARGS = [
  '--enable-unsafe-webgpu',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Options of {@link runConformanceInChromium}. */
export interface ChromiumConformanceOptions {
  /** LoRA backend to test in the page (default 'webgpu'). */
  backend?: string;
  /** Fixtures root on disk (holding `peft-cases/`). */
  fixturesRoot: string;
  /** PEFT case names to run. */
  cases: string[];
  /** fixtures/hf of @tfjs-lora/nlp and @tfjs-lora/vision (default {@link defaultHfFixtureRoots}), served to the page. */
  hfFixtureRoots?: Record<HfFamily, HfFixtureRoot>;
  /** Chromium binary (default `CHROMIUM_PATH` or /usr/bin/chromium). */
  executablePath?: string;
  /** Give up after this long (default 150 s). */
  timeoutMs?: number;
}

/** What the page reported, plus what the runner saw. */
export interface ChromiumConformanceResult {
  /** Set when the run could not happen (no Chromium, backend unavailable in the page), with the reason. */
  unavailable?: string;
  /** One entry per check. */
  results: CheckResult[];
  /** Known gaps in the page. */
  gaps: KnownGap[];
  /** The adapter, in one line. */
  adapter: string | null;
  /** Chromium's version string. */
  browserVersion: string;
  /** Page errors and console errors, for diagnosis. */
  errors: string[];
  /**
   * Files under the Hugging Face fixtures the page asked for and that do not exist (answered 404): the
   * loaders probe optional files (a sharded checkpoint's index, say). Their console errors are not in `errors`.
   */
  probedAbsent: string[];
}

const ORIGIN = 'http://localhost:8123'; // localhost is a secure context: navigator.gpu is exposed

function pageEntry(): string {
  for (const ext of ['.ts', '.js']) {
    const path = fileURLToPath(new URL(`./page-entry${ext}`, import.meta.url));
    if (existsSync(path)) return path;
  }
  throw new Error('browser/page-entry.{ts,js} not found beside chromium.{ts,js}');
}

/**
 * Bundles the page entry (tfjs, core, the webgpu plugin, the suite) for the browser, with the
 * layer-kind packages (@tfjs-lora/vision, @tfjs-lora/nlp) that are installed beside this package.
 */
export async function bundlePage(): Promise<string> {
  const esbuild = await import('esbuild');
  const entry = pageEntry();
  const packageRoot = fileURLToPath(new URL('../../', import.meta.url));
  const present = LAYER_KIND_PACKAGES.filter((n) =>
    existsSync(resolve(packageRoot, 'node_modules', n, 'package.json')),
  );
  const missing = Object.fromEntries(
    LAYER_KIND_PACKAGES.filter((n) => !present.includes(n)).map((n) => [
      n,
      `${n} is not installed as a dependency of @tfjs-lora/conformance`,
    ]),
  );
  const contents = [
    ...present.map((n) => `import ${JSON.stringify(n)};`),
    `import ${JSON.stringify(entry)};`,
    `globalThis[${JSON.stringify(MISSING_ADAPTERS_GLOBAL)}] = ${JSON.stringify(missing)};`,
  ].join('\n');
  const out = await esbuild.build({
    stdin: { contents, resolveDir: dirname(entry), sourcefile: 'conformance-page.js', loader: 'js' },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
    external: ['node:*', 'webgpu'], // Node-only paths, behind variable imports that never run in the page
  });
  return out.outputFiles[0].text;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** Runs the conformance plan of a backend in headless Chromium and returns the page's results. */
export async function runConformanceInChromium(
  options: ChromiumConformanceOptions,
): Promise<ChromiumConformanceResult> {
  const executablePath = options.executablePath ?? process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
  const empty = { results: [], gaps: [], adapter: null, browserVersion: '', errors: [], probedAbsent: [] };
  if (!existsSync(executablePath))
    return {
      ...empty,
      unavailable: `${executablePath} not found (Debian: apt-get install -y chromium; or set CHROMIUM_PATH)`,
    };
  const script = await bundlePage();
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });
  const errors: string[] = [];
  try {
    const page = await browser.newPage();
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    const probedAbsent: string[] = [];
    const isProbe = (m: { text(): string; location(): { url: string } }) =>
      /^Failed to load resource: .*\b404\b/.test(m.text()) && m.location().url.startsWith(`${ORIGIN}/hf-fixtures/`);
    page.on('console', (m) => {
      if (m.type() === 'error' && !isProbe(m)) errors.push(`console.error: ${m.text()}`);
    });
    const root = resolve(options.fixturesRoot);
    const hfRoots = options.hfFixtureRoots ?? defaultHfFixtureRoots();
    const hf: NonNullable<PageRequest['hf']> = {
      urls: { text: null, vision: null },
      present: { text: [], vision: [] },
      missing: {},
    };
    const served: [prefix: string, dir: string][] = [['/fixtures/', root]];
    for (const family of Object.keys(hf.urls) as HfFamily[]) {
      const r = hfRoots[family];
      if ('missing' in r) hf.missing[family] = r.missing;
      else {
        served.push([`/hf-fixtures/${family}/`, resolve(r.root)]);
        hf.urls[family] = `${ORIGIN}/hf-fixtures/${family}/`;
        hf.present[family] = await listHfFixtures(r.root);
      }
    }
    await page.route(`${ORIGIN}/**`, async (route) => {
      const path = decodeURIComponent(new URL(route.request().url()).pathname);
      if (path === '/')
        return route.fulfill({
          contentType: 'text/html',
          body: '<!doctype html><script type="module" src="/page.js"></script>',
        });
      if (path === '/page.js') return route.fulfill({ contentType: 'text/javascript', body: script });
      for (const [prefix, dir] of served) {
        if (!path.startsWith(prefix)) continue;
        const file = resolve(dir, path.slice(prefix.length));
        if (!file.startsWith(dir + sep) || !existsSync(file) || !statSync(file).isFile()) {
          if (prefix.startsWith('/hf-fixtures/')) probedAbsent.push(path);
          return route.fulfill({ status: 404, body: 'not found' });
        }
        return route.fulfill({ body: await readFile(file), contentType: 'application/octet-stream' });
      }
      return route.fulfill({ status: 404, body: 'not found' });
    });
    await page.goto(`${ORIGIN}/`);
    try {
      await page.waitForFunction(() => 'runConformance' in globalThis, undefined, { timeout: 30_000 });
    } catch (e) {
      throw new Error(
        `the conformance page did not start (${(e as Error).message.split('\n')[0]}); page errors: ${errors.join(' | ') || 'none'}`,
        { cause: e },
      );
    }
    const request: PageRequest = {
      backend: options.backend ?? 'webgpu',
      cases: options.cases,
      fixturesUrl: `${ORIGIN}/fixtures/`,
      hf,
    };
    const response = await withTimeout(
      page.evaluate(
        (req) =>
          (globalThis as unknown as { runConformance(r: PageRequest): Promise<PageResponse> }).runConformance(req),
        request,
      ),
      options.timeoutMs ?? 150_000,
      'the conformance run in Chromium',
    );
    return { ...response, browserVersion: browser.version(), errors, probedAbsent };
  } finally {
    await browser.close();
  }
}
