// The conformance plan of one backend: every check that applies, and every known gap by name.
import * as tf from '@tensorflow/tfjs-core';
import { getLoraBackend } from '@tfjs-lora/core';
import { closestComparison, startRecording, type Closest } from './assert.js';
import { fusedKernelChecks } from './checks/fused-kernels.js';
import { hfModelChecks, type HfFixtureSources } from './checks/hf-models.js';
import { initChecks } from './checks/init.js';
import { layerKindChecks } from './checks/layer-kinds.js';
import { leakChecks } from './checks/leaks.js';
import { mergeChecks } from './checks/merge.js';
import { peftCaseChecks } from './checks/peft-cases.js';
import { trainingChecks } from './checks/training.js';
import { workflowChecks } from './checks/workflow.js';
import type { FixtureSource } from './fixture-source.js';
import { tolerancesFor, type ConformanceTolerances } from './tolerances.js';
import { ConformanceFailure, type ConformanceCheck, type KnownGap } from './types.js';

/** What the suite runs on a backend, and what it cannot run there (never silently). */
export interface ConformancePlan {
  /** The LoRA backend under test (active while the checks run). */
  backend: string;
  /** The tolerances in force. */
  tolerances: ConformanceTolerances;
  /** The checks, in order. */
  checks: ConformanceCheck[];
  /** Checks that cannot run here, with the reason. */
  gaps: KnownGap[];
}

/** Options of {@link conformancePlan}. */
export interface ConformancePlanOptions {
  /** Where the PEFT cases are; null or undefined makes them one known gap. */
  fixtures?: FixtureSource | null;
  /** Case names under `peft-cases/` (Node: listPeftCases; a page gets them from its runner). */
  cases?: readonly string[];
  /** Why the fixtures are absent, for the gap. */
  fixturesMissingReason?: string;
  /** Overrides of the documented tolerances. */
  tolerances?: Partial<ConformanceTolerances>;
  /** Adapter packages that could not be imported, with why (see importLayerKindPackages), for gap reasons. */
  missingAdapterPackages?: Readonly<Record<string, string>>;
  /**
   * The Hugging Face fixtures of @tfjs-lora/nlp and @tfjs-lora/vision (Node: hfFixtureSources; a page gets
   * them from its runner); absent, every HF model check is a known gap.
   */
  hfFixtures?: HfFixtureSources | null;
}

/**
 * Whether the active backend reads a computed tensor synchronously and correctly (dataSync). Not
 * probed on 'webgpu': tfjs-backend-webgpu reads synchronously through an OffscreenCanvas 'webgpu'
 * context, which Node lacks and which, in headless Chromium on SwiftShader, returned zeros and then
 * lost the device (seen with Chromium 156), so the probe itself would break the run.
 */
export function canReadSync(): { ok: boolean; reason?: string } {
  if (tf.getBackend() === 'webgpu') {
    return {
      ok: false,
      reason:
        "tfjs-backend-webgpu reads synchronously through an OffscreenCanvas 'webgpu' context: absent in Node; " +
        'in headless Chromium on SwiftShader it returned zeros and lost the device',
    };
  }
  const t = tf.tidy(() => tf.add(tf.ones([4096]), tf.ones([4096])));
  try {
    const v = t.dataSync();
    return v[0] === 2 && v[4095] === 2 ? { ok: true } : { ok: false, reason: `dataSync returned ${v[0]} instead of 2` };
  } catch (e) {
    return { ok: false, reason: `dataSync threw: ${(e as Error).message}` };
  } finally {
    t.dispose();
  }
}

/**
 * Builds the plan for `backend`, which must be the active tfjs backend: the PEFT cases whose layer
 * kinds have a registered adapter, the fused-kernel comparisons (when the backend has fused kernels),
 * training equivalence with cpu, merge/unmerge exactness, Hugging Face model parity and the leak checks.
 */
export async function conformancePlan(backend: string, options: ConformancePlanOptions = {}): Promise<ConformancePlan> {
  // A LoRA backend may run on a tfjs backend of another name ('native' and 'cuda' on 'tensorflow').
  const tfBackend = getLoraBackend(backend)?.tfBackend ?? backend;
  if (tf.getBackend() !== tfBackend) {
    throw new ConformanceFailure(
      `conformancePlan('${backend}') needs '${tfBackend}' to be the active tfjs backend; found '${tf.getBackend()}'. Call useBackend('${backend}') first.`,
    );
  }
  const tolerances = { ...tolerancesFor(backend), ...options.tolerances };
  const checks: ConformanceCheck[] = [];
  const gaps: KnownGap[] = [];
  if (options.fixtures && options.cases && options.cases.length > 0) {
    for (const name of options.cases) {
      const r = await peftCaseChecks(options.fixtures, name, tolerances, options.missingAdapterPackages);
      checks.push(...r.checks);
      gaps.push(...r.gaps);
    }
  } else {
    gaps.push({
      name: 'peft/*',
      reason:
        options.fixturesMissingReason ??
        'no PEFT reference cases were given (fixtures/peft-cases of @tfjs-lora/test-support)',
    });
  }
  checks.push(
    ...fusedKernelChecks(tolerances),
    ...trainingChecks(tfBackend, tolerances),
    ...workflowChecks(tfBackend, tolerances),
  );
  checks.push(...mergeChecks(tolerances), ...initChecks(tfBackend, tolerances));
  const kinds = layerKindChecks(tfBackend, tolerances, options.missingAdapterPackages);
  const hf = hfModelChecks(options.hfFixtures, tolerances, options.missingAdapterPackages);
  checks.push(...kinds.checks, ...hf.checks, ...leakChecks());
  gaps.push(...kinds.gaps, ...hf.gaps);
  return { backend, tolerances, checks, gaps };
}

/** The outcome of one check. */
export interface CheckResult {
  /** Check name. */
  name: string;
  /** Whether it held. */
  passed: boolean;
  /** The failure message when it did not. */
  error?: string;
  /** Wall time. */
  ms: number;
  /** The comparison that came closest to its tolerance, when the check compares numbers. */
  closest?: Closest | null;
}

/** Runs a plan's checks one after the other (used where no test framework is, e.g. a browser page). */
export async function runPlan(plan: ConformancePlan): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const check of plan.checks) {
    const t0 = Date.now();
    startRecording();
    try {
      await check.run();
      results.push({ name: check.name, passed: true, ms: Date.now() - t0, closest: closestComparison() });
    } catch (e) {
      results.push({
        name: check.name,
        passed: false,
        error: e instanceof Error ? `${e.name}: ${e.message}` : String(e),
        ms: Date.now() - t0,
      });
    }
  }
  return results;
}
