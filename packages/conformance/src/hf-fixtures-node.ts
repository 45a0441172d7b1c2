// Node side of the Hugging Face model checks: where fixtures/hf of @tfjs-lora/nlp and @tfjs-lora/vision
// are (the packages installed beside this one; in the repository, workspace links to their sources), and
// which fixture folders they hold. Not imported by the browser page: the Chromium runner serves the folders.
import { existsSync, realpathSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HF_FAMILIES, type HfFamily, type HfFixtureSources } from './checks/hf-models.js';
import { nodeFixtureSource } from './fixture-source.js';

/** A family's fixtures root, or why there is none. */
export type HfFixtureRoot = { root: string } | { missing: string };

const FAMILIES = Object.keys(HF_FAMILIES) as HfFamily[];

/**
 * fixtures/hf of @tfjs-lora/nlp ('text') and @tfjs-lora/vision ('vision'), resolved through this package's
 * node_modules (src/ and dist/ are both one level below the package root). The fixtures are not published
 * with those packages: outside the repository each family is missing, with the reason.
 */
export function defaultHfFixtureRoots(): Record<HfFamily, HfFixtureRoot> {
  const packageRoot = fileURLToPath(new URL('../', import.meta.url));
  const out = {} as Record<HfFamily, HfFixtureRoot>;
  for (const family of FAMILIES) {
    const pkg = HF_FAMILIES[family].package;
    const link = resolve(packageRoot, 'node_modules', pkg);
    if (!existsSync(join(link, 'package.json'))) {
      out[family] = { missing: `${pkg} is not installed beside @tfjs-lora/conformance (${link})` };
      continue;
    }
    const root = join(realpathSync(link), 'fixtures', 'hf');
    out[family] = existsSync(root)
      ? { root }
      : {
          missing: `${root} does not exist: ${pkg}'s Hugging Face fixtures are in the repository only (not published); run from a checkout`,
        };
  }
  return out;
}

/** The fixture folders under `root` (those with a reference.safetensors), sorted; empty when absent. */
export async function listHfFixtures(root: string): Promise<string[]> {
  try {
    const entries = await readdir(root, { withFileTypes: true });
    return entries
      .filter((e) => e.isDirectory() && existsSync(join(root, e.name, 'reference.safetensors')))
      .map((e) => e.name)
      .sort();
  } catch {
    return [];
  }
}

/** The Hugging Face fixtures as the plan takes them, read from disk (default {@link defaultHfFixtureRoots}). */
export async function hfFixtureSources(
  roots: Record<HfFamily, HfFixtureRoot> = defaultHfFixtureRoots(),
): Promise<HfFixtureSources> {
  const sources: HfFixtureSources = { text: null, vision: null, present: { text: [], vision: [] }, missing: {} };
  for (const family of FAMILIES) {
    const r = roots[family];
    if ('missing' in r) sources.missing![family] = r.missing;
    else {
      sources[family] = nodeFixtureSource(r.root);
      sources.present = { ...sources.present, [family]: await listHfFixtures(r.root) };
    }
  }
  return sources;
}
