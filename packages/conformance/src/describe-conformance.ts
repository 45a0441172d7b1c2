// The vitest face of the suite: one describe block per backend, one test per check, one skipped test
// per known gap whose title says why (and a printed list), so nothing is skipped silently.
import { getLoraBackend, useBackend } from '@tfjs-lora/core';
import { FIXTURES_ROOT } from '@tfjs-lora/test-support';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { importLayerKindPackages } from './layer-kind-packages.js';
import { closestComparison, startRecording, type Closest } from './assert.js';
import { listPeftCases, nodeFixtureSource } from './fixture-source.js';
import { hfFixtureSources } from './hf-fixtures-node.js';
import { conformancePlan, type CheckResult, type ConformancePlanOptions } from './suite.js';
import type { KnownGap } from './types.js';

/** Options of {@link describeBackendConformance}. */
export interface DescribeConformanceOptions extends Omit<ConformancePlanOptions, 'fixtures' | 'cases'> {
  /** Fixtures root (holding `peft-cases/`); default the repository's (see {@link defaultFixturesRoot}). */
  fixturesRoot?: string;
  /** Fail instead of listing a gap when the backend itself is unavailable (CI sets this for backends it must run). */
  require?: boolean;
  /** Title of the describe block (default `conformance: <backend>`). */
  title?: string;
}

/** The repository's fixtures (packages/test-support/fixtures, written by its generate-fixtures.py). */
export function defaultFixturesRoot(): string {
  return FIXTURES_ROOT;
}

function printGaps(title: string, gaps: readonly KnownGap[]): void {
  if (gaps.length === 0) return;
  console.warn(`${title}: ${gaps.length} known gap(s):\n${gaps.map((g) => `  - ${g.name}: ${g.reason}`).join('\n')}`);
}

/** Set TFJS_LORA_CONFORMANCE_REPORT=1 to print, per check, the comparison closest to its tolerance. */
function reportWanted(): boolean {
  return (
    (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[
      'TFJS_LORA_CONFORMANCE_REPORT'
    ] === '1'
  );
}

function printReport(title: string, rows: { name: string; closest?: Closest | null; ms?: number }[]): void {
  if (!reportWanted()) return;
  const lines = rows.map((r) => {
    const c = r.closest
      ? `${r.closest.diff.toExponential(2)} / ${r.closest.tol} (${r.closest.what})`
      : 'exact or boolean checks only';
    return `  ${c} — ${r.name}${r.ms === undefined ? '' : ` [${r.ms} ms]`}`;
  });
  console.log(`${title}: closest comparison per check (max |Δ| / tolerance):\n${lines.join('\n')}`);
}

function describeGaps(gaps: readonly KnownGap[]): void {
  for (const g of gaps) it.skip(`known gap: ${g.name}: ${g.reason}`, () => {});
}

/**
 * Declares the conformance suite of one registered LoRA backend as vitest tests (await it at the top
 * level of a test file). The backend is activated first; when it is unavailable the whole backend is a
 * known gap with its reason (or a failure with `require`). PEFT cases come from `fixturesRoot`; the
 * layer-kind packages (@tfjs-lora/vision, @tfjs-lora/nlp) are imported when installed; the Hugging Face
 * model checks read their fixtures/hf (`hfFixtures`, default {@link hfFixtureSources}).
 */
export async function describeBackendConformance(
  backendName: string,
  options: DescribeConformanceOptions = {},
): Promise<void> {
  const title = options.title ?? `conformance: ${backendName}`;
  const backend = getLoraBackend(backendName);
  const avail = backend
    ? await backend.isAvailable()
    : { ok: false as const, reason: `no LoRA backend '${backendName}' is registered (import its package)` };
  if (!avail.ok) {
    if (options.require) {
      describe(title, () =>
        it(`backend '${backendName}' is available`, () => {
          throw new Error(`'${backendName}' is required here but unavailable: ${avail.reason}`);
        }),
      );
      return;
    }
    const gaps = [{ name: `backend ${backendName}`, reason: avail.reason }];
    printGaps(title, gaps);
    describe(title, () => describeGaps(gaps));
    return;
  }
  const missingAdapterPackages = await importLayerKindPackages();
  await useBackend(backendName);
  const root = options.fixturesRoot ?? defaultFixturesRoot();
  const cases = await listPeftCases(root);
  const plan = await conformancePlan(backendName, {
    ...options,
    fixtures: cases.length > 0 ? nodeFixtureSource(root) : null,
    cases,
    fixturesMissingReason: `no PEFT cases under ${root}/peft-cases`,
    missingAdapterPackages,
    hfFixtures: options.hfFixtures !== undefined ? options.hfFixtures : await hfFixtureSources(),
  });
  printGaps(title, plan.gaps);
  describe(title, () => {
    beforeAll(async () => {
      await useBackend(backendName);
    });
    const rows: { name: string; closest?: Closest | null; ms?: number }[] = [];
    for (const check of plan.checks) {
      it(check.name, async () => {
        startRecording();
        const t0 = Date.now();
        await check.run();
        rows.push({ name: check.name, closest: closestComparison(), ms: Date.now() - t0 });
      });
    }
    describeGaps(plan.gaps);
    afterAll(() => printReport(title, rows));
  });
}

/**
 * Declares tests for results computed elsewhere (a browser page): one passing or failing test per
 * check, one skipped test per gap.
 */
export function describeConformanceResults(
  title: string,
  results: readonly CheckResult[],
  gaps: readonly KnownGap[],
): void {
  printGaps(title, gaps);
  printReport(
    title,
    results.filter((r) => r.passed),
  );
  describe(title, () => {
    for (const r of results) {
      it(r.name, () => {
        if (!r.passed) throw new Error(r.error);
      });
    }
    describeGaps(gaps);
  });
}
