#!/usr/bin/env node
// No synchronous tensor reads in library code (issue 14; `pnpm lint` runs this). Scans the sources of
// packages/*/src and apps/*/src (*.ts, *.tsx, *.mts; tests, *.d.ts and the private test-support package
// excluded) for calls of `dataSync(`, `arraySync(` and `bufferSync(` outside comments. On a GPU backend
// such a read stalls the GPU (browsers) or throws (tfjs-backend-webgpu in Node: no OffscreenCanvas);
// library code reads with `await t.data()`.
//
// ALLOWED lists the files that may still read synchronously, each with the exact number of reads and the
// reason. A file with more reads than listed fails; a listed file with fewer reads fails too (lower its
// count or delete its entry), so the list only shrinks. Entries marked `pending: issue 14` are reads still
// to be made asynchronous; the others only ever run where a synchronous read is possible.
// Prints one line per violation and the allow-list's size; exits 1 on any violation.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SOURCE = /\.(ts|tsx|mts)$/;
const SKIP_DIRS = new Set(['node_modules', 'dist', 'dist-check', '.turbo', 'coverage', 'models', 'fixtures']);
const SYNC_READ = /\b(dataSync|arraySync|bufferSync)\s*\(/g;

/** @type {{ file: string; reads: number; reason: string }[]} */
const ALLOWED = [
  {
    file: 'packages/core/src/safetensors-write.ts',
    reads: 1,
    reason:
      'writeSafetensors, the synchronous form of writeSafetensorsAsync: refuses on webgpu/webgl (refuseSyncReadOnGpu) before reading',
  },
  {
    file: 'packages/conformance/src/suite.ts',
    reads: 1,
    reason: 'the probe that asks whether the active backend can read synchronously at all (it catches the failure)',
  },
  {
    file: 'packages/core/src/lora-layer.ts',
    reads: 1,
    reason:
      'the synchronous merge({safeMerge}) reads tf.all(tf.isFinite(kernel)); guarded by requireSyncRead (cpu, wasm, tensorflow only), GPU backends use the awaited mergeAsync',
  },
  {
    file: 'packages/core/src/svd.ts',
    reads: 1,
    reason:
      "svd()/householderQr()/svdLowRank() read their input with dataSync: called by PiSSA/OLoRA init (on the cpu backend via host-init.ts when the active backend is a GPU one) and by the synchronous addWeightedAdapter(..., 'svd'), which requireSyncRead guards; GPU backends use svdAsync through addWeightedAdapterAsync",
  },
  {
    file: 'packages/core/src/init.ts',
    reads: 6,
    reason:
      "initLoraWeights 'pissa'/'olora' read the kernel, SVD and QR factors: runs on host backends only (LoraLayer.initAdapter refuses elsewhere; the awaited applyLora runs it on cpu through host-init.ts)",
  },
  {
    file: 'packages/nlp/src/lm-training.ts',
    reads: 1,
    reason:
      'perplexity(), the synchronous form of perplexityAsync: refuses on webgpu/webgl (requireSyncRead) before reading',
  },
  {
    file: 'packages/nlp/src/generate.ts',
    reads: 1,
    reason:
      'generate(), the synchronous form of generateAsync: refuses on webgpu/webgl (requireSyncRead) before reading each step’s logits',
  },
];

function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    if (SKIP_DIRS.has(name) || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else if (SOURCE.test(name) && !name.endsWith('.d.ts') && !/\.test(-d)?\.tsx?$/.test(name)) out.push(path);
  }
  return out;
}

/** Sync-read calls in `text`, outside `//` and block comments. */
function countReads(text) {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  return [...code.matchAll(SYNC_READ)].length;
}

const files = [];
for (const top of ['packages', 'apps']) {
  for (const pkg of readdirSync(join(root, top))) {
    if (pkg === 'test-support') continue;
    const src = join(root, top, pkg, 'src');
    try {
      if (statSync(src).isDirectory()) walk(src, files);
    } catch {
      // a package without src/
    }
  }
}

const allowed = new Map(ALLOWED.map((e) => [e.file, e]));
const problems = [];
const seen = new Set();
for (const path of files) {
  const rel = relative(root, path).split(sep).join('/');
  const reads = countReads(readFileSync(path, 'utf8'));
  const entry = allowed.get(rel);
  if (entry) seen.add(rel);
  if (reads === 0 && !entry) continue;
  if (!entry) {
    problems.push(
      `${rel}: ${reads} synchronous read(s) (dataSync/arraySync/bufferSync); read with \`await t.data()\` (or list the file in ALLOWED with its reason if it never sees a GPU tensor)`,
    );
  } else if (reads > entry.reads) {
    problems.push(
      `${rel}: ${reads} synchronous read(s), ALLOWED lists ${entry.reads}; the new one(s) must read asynchronously`,
    );
  } else if (reads < entry.reads) {
    problems.push(
      `${rel}: ${reads} synchronous read(s), ALLOWED lists ${entry.reads}; lower the count (or delete the entry at 0)`,
    );
  }
}
for (const e of ALLOWED)
  if (!seen.has(e.file)) problems.push(`${e.file}: listed in ALLOWED but not found; delete the entry`);

const pending = ALLOWED.filter((e) => e.reason.startsWith('pending:'));
for (const p of problems) console.log(p);
console.log(
  `Synchronous reads: ${problems.length} problem(s) in ${files.length} files; allow-list: ${ALLOWED.length} file(s), ${ALLOWED.reduce((n, e) => n + e.reads, 0)} read(s) (${pending.length} pending: issue 14)`,
);
process.exit(problems.length ? 1 : 0);
