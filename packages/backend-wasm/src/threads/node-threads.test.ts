// Multi-threaded wasm in Node: on by default where there is more than one core, off with threads: false,
// results equal to the cpu backend's, and a process that trained on it exits by itself.
import * as tf from '@tensorflow/tfjs-core';
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { setUpBackends } from '../../test-support/kernel-check.js';
import { registerWasmBackend, wasmThreadsCount } from '../wasm-backend.js';

const packageRoot = fileURLToPath(new URL('../..', import.meta.url));
const cores = availableParallelism();

interface ChildResult {
  code: number | null;
  /** Milliseconds from the child's last line to its exit. */
  exitAfterDone: number;
  report: { backend: string; threads: number; productDiff: number; lossDiff: number; doneAt: number };
}

/** Runs test-support/threads-child.ts with a `threads` argument; fails if it runs past 90 s. */
function runChild(threads: string): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test-support/threads-child.ts', threads], {
      cwd: packageRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child (threads ${threads}) still running after 90 s; output: ${out} ${err}`));
    }, 90_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (!line) return reject(new Error(`child (threads ${threads}) printed no report (exit ${code}): ${out} ${err}`));
      const report = JSON.parse(line) as ChildResult['report'];
      resolve({ code, exitAfterDone: Date.now() - report.doneAt, report });
    });
  });
}

describe('threads in Node', () => {
  beforeAll(setUpBackends);

  it.skipIf(cores < 2)('runs XNNPACK on every core (at most 8) by default', async () => {
    expect(tf.getBackend()).toBe('wasm');
    expect(await wasmThreadsCount()).toBe(Math.min(cores, 8));
  });
  if (cores < 2) console.log(`threads test: this machine has ${cores} core, so the default is one thread (skipped)`);

  it('refuses a bad count, and a change once the backend runs', () => {
    expect(() => registerWasmBackend({ threads: 0 })).toThrow(/expected false or an integer from 1 to 8; found 0/);
    expect(() => registerWasmBackend({ threads: 2.5 })).toThrow(/found 2\.5/);
    expect(() => registerWasmBackend({ threads: 2 })).toThrow(/already initialised/);
  });

  it.each([
    ['default', Math.min(cores, 8)],
    ['2', 2],
    ['false', 1],
  ] as const)(
    'a child process that trains with threads %s matches cpu and exits by itself',
    async (arg, expected) => {
      const r = await runChild(arg);
      expect(r.code).toBe(0);
      expect(r.report.backend).toBe('wasm');
      expect(r.report.threads).toBe(expected);
      expect(r.report.productDiff).toBeLessThan(1e-3);
      expect(r.report.lossDiff).toBeLessThan(1e-4);
      expect(r.exitAfterDone).toBeLessThan(5000);
    },
    120_000,
  );
});
