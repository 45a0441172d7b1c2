// The conformance suite on WebGPU in headless Debian Chromium (SwiftShader adapter without a GPU),
// driven by playwright-core; the page runs the same checks as Node and reports them back.
import { describe, it } from 'vitest';
import { runConformanceInChromium } from './browser/chromium.js';
import { defaultFixturesRoot, describeConformanceResults } from './describe-conformance.js';
import { listPeftCases } from './fixture-source.js';

const REQUIRE = process.env['TFJS_LORA_REQUIRE_WEBGPU'] === '1';
const root = defaultFixturesRoot();
const cases = await listPeftCases(root);
const run = await runConformanceInChromium({ fixturesRoot: root, cases });
const title = `conformance: webgpu (Chromium ${run.browserVersion || '?'}${run.adapter ? `, ${run.adapter}` : ''})`;

if (run.unavailable) {
  if (REQUIRE)
    describe(title, () =>
      it('WebGPU in Chromium is available', () => {
        throw new Error(`required here (TFJS_LORA_REQUIRE_WEBGPU=1) but unavailable: ${run.unavailable}`);
      }),
    );
  else {
    console.warn(`${title}: 1 known gap(s):\n  - webgpu in Chromium: ${run.unavailable}`);
    describe(title, () => it.skip(`known gap: webgpu in Chromium: ${run.unavailable}`, () => {}));
  }
} else {
  if (run.errors.length > 0) console.warn(`page errors:\n${run.errors.join('\n')}`);
  if (run.probedAbsent.length > 0)
    console.log(`optional files the loaders probed, absent (404): ${[...new Set(run.probedAbsent)].join(', ')}`);
  if (!cases.length) run.gaps.push({ name: 'peft/*', reason: `no PEFT cases under ${root}/peft-cases` });
  describeConformanceResults(title, run.results, run.gaps);
}
