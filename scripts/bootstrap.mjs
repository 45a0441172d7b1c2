#!/usr/bin/env node
// Installs the workspace's dependencies when they are missing or older than the lockfile.
// Works on a machine that has only Node 20 and npm: pnpm comes from the npm registry when absent.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PNPM_VERSION = '12.4.2';
const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function pnpmCommand() {
  try {
    const v = execFileSync('pnpm', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    if (v === PNPM_VERSION) return ['pnpm', []];
  } catch {
    // not installed: fall through to npx
  }
  return ['npx', ['--yes', `pnpm@${PNPM_VERSION}`]];
}

const marker = join(root, 'node_modules', '.modules.yaml');
const lock = join(root, 'pnpm-lock.yaml');
const fresh = existsSync(marker) && (!existsSync(lock) || statSync(marker).mtimeMs >= statSync(lock).mtimeMs);
if (!fresh) {
  const [cmd, pre] = pnpmCommand();
  const args = [...pre, 'install', ...(process.env.CI ? ['--frozen-lockfile'] : [])];
  console.log(`[bootstrap] ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(
      `[bootstrap] dependency install failed (exit ${r.status}). Check network access to the npm registry.`,
    );
    process.exit(r.status ?? 1);
  }
}
