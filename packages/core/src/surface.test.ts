// The package's public surface: the root entry stays small, and each name has one home.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as root from './index.js';

/** The most runtime names the root entry may export (issue 13: the contract and the everyday API). */
const MAX_ROOT_RUNTIME_EXPORTS = 60;

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  exports: Record<string, string | { types: string; import: string }>;
  sideEffects: string[];
};
const entryNames = readdirSync(new URL('./entries/', import.meta.url))
  .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
  .map((f) => f.slice(0, -3))
  .sort();

describe('public surface', () => {
  it(`the root entry exports at most ${MAX_ROOT_RUNTIME_EXPORTS} runtime names`, () => {
    const names = Object.keys(root);
    expect(names.length, `root runtime exports: ${names.sort().join(', ')}`).toBeLessThanOrEqual(
      MAX_ROOT_RUNTIME_EXPORTS,
    );
  });

  it('the exports map names every entry file, types first', () => {
    const subpaths = Object.keys(pkg.exports)
      .filter((k) => k !== '.' && k !== './package.json')
      .map((k) => k.slice(2))
      .sort();
    expect(subpaths).toEqual(entryNames);
    for (const [key, target] of Object.entries(pkg.exports)) {
      if (key === './package.json') continue;
      expect(typeof target, key).toBe('object');
      const t = target as Record<string, string>;
      expect(Object.keys(t)[0], `${key}: "types" must come first`).toBe('types');
      const base = key === '.' ? './dist/index' : `./dist/entries/${key.slice(2)}`;
      expect(t).toEqual({ types: `${base}.d.ts`, import: `${base}.js` });
    }
  });

  it('each runtime name has one home (root or one subpath)', async () => {
    const homes = new Map<string, string>(Object.keys(root).map((n) => [n, '.']));
    for (const entry of entryNames) {
      const mod = (await import(`./entries/${entry}.ts`)) as Record<string, unknown>;
      expect(Object.keys(mod).length, `entry ${entry} exports nothing`).toBeGreaterThan(0);
      for (const name of Object.keys(mod)) {
        expect(homes.get(name), `${name} is exported from both ${homes.get(name)} and ./${entry}`).toBeUndefined();
        homes.set(name, `./${entry}`);
      }
    }
  });

  it('sideEffects lists only files that register something when imported', () => {
    expect(pkg.sideEffects).toEqual([
      './dist/lora-layer.js',
      './dist/builtin-layer-kinds.js',
      './dist/apply-lora.js',
      './dist/pretrained/layers-format.js',
    ]);
  });
});
