#!/usr/bin/env node
// Runs every package's tests through turbo, then prints the total over all packages from vitest's JSON
// reports, ending with one line `N passed, M failed, K skipped` so a run that executed nothing is visible.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const REPORT = '.vitest-report.json';
const dirs = ['packages', 'apps']
  .filter((d) => existsSync(join(root, d)))
  .flatMap((d) =>
    readdirSync(join(root, d), { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => join(root, d, e.name)),
  );
for (const d of dirs) rmSync(join(d, REPORT), { force: true });

const turbo = join(root, 'node_modules', '.bin', 'turbo');
const r = spawnSync(turbo, ['run', 'test', '--concurrency=1', '--continue', ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
});

let passed = 0;
let failed = 0;
let skipped = 0;
console.log('\nTest totals by package:');
for (const d of dirs) {
  const f = join(d, REPORT);
  if (!existsSync(f)) {
    // A package with tests that left no report did not run them (turbo stopped early, or its run crashed).
    const pkg = join(d, 'package.json');
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, 'utf8')).scripts?.test) {
      console.log(
        `  ${d.slice(root.length + 1).padEnd(28)} no test report: its tests did not run (counted as 1 failed)`,
      );
      failed += 1;
    }
    continue;
  }
  const j = JSON.parse(readFileSync(f, 'utf8'));
  const p = j.numPassedTests ?? 0;
  // Failed tests, plus test files that failed before running any test (import or collection errors).
  const brokenFiles = (j.testResults ?? []).filter(
    (r) => r.status === 'failed' && (r.assertionResults ?? []).length === 0,
  ).length;
  const fl = (j.numFailedTests ?? 0) + brokenFiles;
  const s = (j.numPendingTests ?? 0) + (j.numTodoTests ?? 0);
  console.log(`  ${d.slice(root.length + 1).padEnd(28)} ${p} passed, ${fl} failed, ${s} skipped`);
  passed += p;
  failed += fl;
  skipped += s;
}
const status = r.status ?? 1;
if (status !== 0 && failed === 0) failed = 1; // turbo failed outside a test (build, crash): never report green
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(status);
