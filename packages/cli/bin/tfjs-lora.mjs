#!/usr/bin/env node
// The `tfjs-lora` command: runs the built CLI (dist/bin.js). In a clone of the repository where the CLI is
// not built yet (after `npm run bootstrap`, before any build), it builds it first with turbo, once.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const built = join(here, '..', 'dist', 'bin.js');
if (!existsSync(built)) {
  const repo = join(here, '..', '..', '..');
  if (!existsSync(join(repo, 'turbo.json'))) {
    console.error(`tfjs-lora: ${built} is missing; build @tfjs-lora/cli first (tsc -p tsconfig.build.json).`);
    process.exit(1);
  }
  console.error('tfjs-lora: building the CLI and the packages it uses (first run, about a minute)...');
  const r = spawnSync('npx', ['turbo', 'run', 'build', '--filter=@tfjs-lora/cli...', '--output-logs=errors-only'], {
    cwd: repo,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (r.status !== 0 || !existsSync(built)) {
    console.error('tfjs-lora: the build failed; run `pnpm build` at the repository root to see why.');
    process.exit(1);
  }
}
await import(pathToFileURL(built).href);
