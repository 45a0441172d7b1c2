export {
  describeBackendConformance,
  describeConformanceResults,
  defaultFixturesRoot,
  type DescribeConformanceOptions,
} from './describe-conformance.js';
export {
  conformancePlan,
  runPlan,
  canReadSync,
  type ConformancePlan,
  type ConformancePlanOptions,
  type CheckResult,
} from './suite.js';
export { TOLERANCES, tolerancesFor, type ConformanceTolerances } from './tolerances.js';
export { ConformanceFailure, type ConformanceCheck, type KnownGap } from './types.js';
export { nodeFixtureSource, fetchFixtureSource, listPeftCases, type FixtureSource } from './fixture-source.js';
export {
  loadPeftCase,
  disposeCase,
  buildCaseModel,
  CASE_LAYER_KINDS,
  caseKinds,
  type PeftCase,
  type PeftCaseLayer,
  type CaseLayerKind,
} from './peft-case.js';
export {
  hfModelChecks,
  HF_MODEL_FIXTURES,
  HF_FAMILIES,
  type HfFamily,
  type HfModelFixture,
  type HfFixtureSources,
} from './checks/hf-models.js';
export { hfFixtureSources, defaultHfFixtureRoots, listHfFixtures, type HfFixtureRoot } from './hf-fixtures-node.js';
export {
  runConformanceInChromium,
  bundlePage,
  CHROMIUM_ARGS,
  type ChromiumConformanceOptions,
  type ChromiumConformanceResult,
} from './browser/chromium.js';
export {
  LAYER_KIND_PACKAGES,
  importLayerKindPackages,
  ADAPTER_PACKAGES,
  importAdapterPackages,
} from './layer-kind-packages.js';
