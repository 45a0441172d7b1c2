import type { HfFamily } from '../checks/hf-models.js';
import type { CheckResult } from '../suite.js';
import type { KnownGap } from '../types.js';

/** Global through which the bundle tells the page which adapter packages it could not include. */
export const MISSING_ADAPTERS_GLOBAL = '__tfjsLoraConformanceMissingAdapters';

/** What the Node runner asks the page to run. */
export interface PageRequest {
  /** LoRA backend name. */
  backend: string;
  /** PEFT case names. */
  cases: string[];
  /** URL of the fixtures root, ending with '/'. */
  fixturesUrl: string;
  /** The Hugging Face fixtures served to the page: a URL per family (null: absent), the folders, why absent. */
  hf?: {
    urls: Record<HfFamily, string | null>;
    present: Record<HfFamily, string[]>;
    missing: Partial<Record<HfFamily, string>>;
  };
}

/** What the page answers. */
export interface PageResponse {
  /** Set when the backend is unavailable in the page, with the reason. */
  unavailable?: string;
  /** One entry per check run. */
  results: CheckResult[];
  /** Known gaps in the page. */
  gaps: KnownGap[];
  /** The WebGPU adapter, in one line. */
  adapter: string | null;
  /** The page's navigator.userAgent. */
  userAgent: string;
}
