// One PEFT reference case (peft-cases/<name> of the fixtures in @tfjs-lora/test-support) read through a
// FixtureSource (the file system in Node, HTTP in a browser page). The case model, layer kinds and layout
// conversions are test-support's, shared with every package's tests.
import {
  buildCaseModel,
  CASE_LAYER_KINDS,
  caseKinds,
  disposeCase,
  peftCaseFileNames,
  peftCaseFromFiles,
  type CaseLayerKind,
  type PeftCase,
  type PeftCaseLayer,
} from '@tfjs-lora/test-support/browser';
import type { FixtureSource } from './fixture-source.js';

export {
  buildCaseModel,
  CASE_LAYER_KINDS,
  caseKinds,
  disposeCase,
  type CaseLayerKind,
  type PeftCase,
  type PeftCaseLayer,
};

/** Loads `peft-cases/<name>` from a fixture source. */
export async function loadPeftCase(source: FixtureSource, name: string): Promise<PeftCase> {
  const f = peftCaseFileNames(name);
  const [caseJson, adapterConfigJson, base, adapter, io] = await Promise.all([
    source.text(f.caseJson),
    source.text(f.adapterConfigJson),
    source.bytes(f.base),
    source.bytes(f.adapter),
    source.bytes(f.io),
  ]);
  return peftCaseFromFiles(name, { caseJson, adapterConfigJson, base, adapter, io });
}
