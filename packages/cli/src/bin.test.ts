// The tfjs-lora binary as a process: exit codes and stderr (run from source through tsx, so no build is needed).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const tsx = join(root, 'node_modules', '.bin', 'tsx');
const run = (...args: string[]) =>
  spawnSync(tsx, [join(root, 'src', 'bin.ts'), ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });

describe.skipIf(!existsSync(tsx))('tfjs-lora binary', () => {
  it('exits 0 with usage on --help', () => {
    const r = run('--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Usage: tfjs-lora \[options\] \[command\]/);
  });

  it('exits 1 with one error line on stderr and no stack trace', () => {
    const r = run('inspect', join(root, 'does-not-exist'));
    expect(r.status).toBe(1);
    const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^error: No adapter at '.*does-not-exist': the path does not exist\./);
  });
});
