#!/usr/bin/env node
// Package boundaries (`pnpm lint` runs this; so does CI through it). Reads every TypeScript/JavaScript
// source of packages/* (not node_modules or build output) and checks:
//   1. core imports no @tfjs-lora package (not even itself by name: its typecheck must not need its build);
//      the private @tfjs-lora/test-support (test helpers, PEFT fixtures) is for tests and private packages only;
//   2. a backend (backend-*) imports no domain package (nlp, vision, keras, graph) and no other backend;
//   3. a domain package's library code (src/, tests excluded) imports no backend and no other domain package
//      (plugins depend on core only: nlp, vision, keras and graph never on each other);
//   4. no file imports another package's files by relative path (`../../core/src/…`): by name only (tests
//      excepted for now: their shared helpers are moving to the private @tfjs-lora/test-support package);
//   5. no import circle among a package's src/ files (`import type` included: a circle of types is still
//      a circle of concepts). Circles listed in KNOWN_CIRCLES are reported but do not fail the check.
// Prints one line per violation and exits 1 when any is found.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const packagesDir = join(root, 'packages');
const SOURCE = /\.(ts|tsx|mts|js|mjs)$/;
const SKIP_DIRS = new Set(['node_modules', 'dist', 'dist-check', '.turbo', 'coverage', 'models', 'fixtures']);
const DOMAIN = new Set(['nlp', 'vision', 'keras', 'graph']);
const isBackend = (name) => name.startsWith('backend-');
const isTest = (file) => /\.test(-d)?\.tsx?$/.test(file);
const isPrivate = (pkgDir) => JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')).private === true;

/**
 * Import circles known when this check was added (issue 13), being removed by other work: each entry is
 * the sorted files of one circle, relative to the package. Delete an entry once its circle is gone (the
 * check says so); any circle not listed fails.
 */
const KNOWN_CIRCLES = [];

function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    if (SKIP_DIRS.has(name) || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else if (SOURCE.test(name) && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** Module specifiers of a file: static imports and re-exports, `import('…')` with a literal. */
function specifiers(text) {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const out = [];
  const re =
    /(?:^|[\s;}])(?:import|export)\s+(type\s+)?(?:[\w*{}\s,$]+?\s+from\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
  for (let m; (m = re.exec(code));) out.push({ spec: m[2] ?? m[3], typeOnly: Boolean(m[1]) });
  return out;
}

/** The resolved source file of a relative specifier, or null when it is not a source file here. */
function resolveRelative(from, spec) {
  const base = resolve(dirname(from), spec);
  const candidates = [
    base,
    base.replace(/\.js$/, '.ts'),
    base.replace(/\.js$/, '.tsx'),
    `${base}.ts`,
    join(base, 'index.ts'),
  ];
  return (
    candidates.find((c) => {
      try {
        return statSync(c).isFile();
      } catch {
        return false;
      }
    }) ?? null
  );
}

const problems = [];
const notes = [];
const packages = readdirSync(packagesDir).filter((n) => statSync(join(packagesDir, n)).isDirectory());

for (const pkg of packages) {
  const pkgDir = join(packagesDir, pkg);
  const files = walk(pkgDir);
  const graph = new Map();
  for (const file of files) {
    const rel = relative(pkgDir, file).split(sep).join('/');
    const inSrc = rel.startsWith('src/');
    const edges = [];
    for (const { spec } of specifiers(readFileSync(file, 'utf8'))) {
      const where = `packages/${pkg}/${rel}`;
      const own = spec.match(/^@tfjs-lora\/([^/]+)/)?.[1];
      if (own === 'test-support') {
        // The private test package (helpers, PEFT fixtures): for tests and private packages only.
        if (inSrc && !isTest(rel) && !isPrivate(pkgDir))
          problems.push(
            `${where}: library code of the published package ${pkg} imports ${spec}; only tests and private packages may use it`,
          );
      } else if (own) {
        if (pkg === 'core')
          problems.push(
            `${where}: core imports ${spec}; core depends on no @tfjs-lora package (itself included: use a relative path)`,
          );
        else if (isBackend(pkg) && (DOMAIN.has(own) || (isBackend(own) && own !== pkg)))
          problems.push(
            `${where}: backend ${pkg} imports ${spec}; backends depend on core only (never on nlp, vision, graph or another backend)`,
          );
        else if (DOMAIN.has(pkg) && inSrc && !isTest(rel) && isBackend(own))
          problems.push(
            `${where}: library code of ${pkg} imports ${spec}; pick a backend in an app, a test or a script, not in the library`,
          );
        else if (DOMAIN.has(pkg) && inSrc && !isTest(rel) && DOMAIN.has(own) && own !== pkg)
          problems.push(
            `${where}: library code of ${pkg} imports ${spec}; plugins depend on core only, never on each other`,
          );
      } else if (spec.startsWith('.')) {
        const target = resolve(dirname(file), spec);
        if (target.startsWith(packagesDir + sep) && !target.startsWith(pkgDir + sep) && !isTest(rel)) {
          problems.push(
            `${where}: imports ${spec}, a file of another package; import it by package name (@tfjs-lora/…)`,
          );
        } else if (inSrc) {
          const resolved = resolveRelative(file, spec);
          if (resolved) edges.push(resolved);
        }
      }
    }
    if (inSrc) graph.set(file, edges);
  }
  for (const circle of circles(graph)) {
    const names = circle.map((f) => relative(pkgDir, f).split(sep).join('/')).sort();
    const known = KNOWN_CIRCLES.some(([p, files]) => p === pkg && files.join() === names.join());
    const line = `packages/${pkg}: import circle among ${names.join(', ')}`;
    if (known) notes.push(`${line} (known, listed in KNOWN_CIRCLES)`);
    else problems.push(`${line}; give the shared part its own module`);
  }
}

/** Strongly connected components with more than one file (Tarjan), or a file importing itself. */
function circles(graph) {
  let index = 0;
  const stack = [];
  const on = new Set();
  const idx = new Map();
  const low = new Map();
  const out = [];
  const visit = (v) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
    }
    if (low.get(v) === idx.get(v)) {
      const comp = [];
      let w;
      do {
        w = stack.pop();
        on.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(comp);
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return out;
}

for (const [p, files] of KNOWN_CIRCLES) {
  if (!notes.some((n) => n.startsWith(`packages/${p}: import circle among ${files.join(', ')} `)))
    notes.push(`packages/${p}: the known circle ${files.join(', ')} is gone; delete it from KNOWN_CIRCLES`);
}
for (const n of notes) console.warn(`note: ${n}`);
for (const p of problems) console.error(p);
console.log(`package boundaries: ${problems.length} problem(s) in ${packages.length} packages`);
process.exit(problems.length > 0 ? 1 : 0);
