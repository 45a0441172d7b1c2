// Entry of the browser bundle: runs the conformance plan of a backend inside the page and returns
// plain results to the Node runner (playwright). Bundled by esbuild; no test framework in the page.
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-layers';
import { describeAdapter, registerWebgpuBackend, webgpuAdapterReport } from '@tfjs-lora/backend-webgpu';
import { getLoraBackend, useBackend } from '@tfjs-lora/core';
import { fetchFixtureSource } from '../fixture-source.js';
import { conformancePlan, runPlan } from '../suite.js';
import { MISSING_ADAPTERS_GLOBAL, type PageRequest, type PageResponse } from './protocol.js';

async function runConformance(req: PageRequest): Promise<PageResponse> {
  registerWebgpuBackend({ cpuHandoffThreshold: 0 });
  const backend = getLoraBackend(req.backend);
  const avail = backend
    ? await backend.isAvailable()
    : { ok: false as const, reason: `no LoRA backend '${req.backend}' is registered in the page` };
  if (!avail.ok)
    return { unavailable: avail.reason, results: [], gaps: [], adapter: null, userAgent: navigator.userAgent };
  await useBackend(req.backend);
  const missingAdapterPackages = (globalThis as Record<string, unknown>)[MISSING_ADAPTERS_GLOBAL] as
    Record<string, string> | undefined;
  const plan = await conformancePlan(req.backend, {
    fixtures: fetchFixtureSource(req.fixturesUrl),
    cases: req.cases,
    missingAdapterPackages,
    hfFixtures: req.hf
      ? {
          text: req.hf.urls.text === null ? null : fetchFixtureSource(req.hf.urls.text),
          vision: req.hf.urls.vision === null ? null : fetchFixtureSource(req.hf.urls.vision),
          present: req.hf.present,
          missing: req.hf.missing,
        }
      : null,
  });
  const results = await runPlan(plan);
  const report = await webgpuAdapterReport();
  return { results, gaps: plan.gaps, adapter: report ? describeAdapter(report) : null, userAgent: navigator.userAgent };
}

(globalThis as { runConformance?: typeof runConformance }).runConformance = runConformance;
