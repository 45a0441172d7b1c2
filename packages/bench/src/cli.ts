// `pnpm bench [name] [arguments]` at the repository root: the main table without a name, one benchmark
// with one (`pnpm bench list` names them). Each runs in its own Node process with tsx, its arguments
// passed through.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { markdownTable } from './print-table.js';
import { SUITES } from './suites.js';

const [first, ...rest] = process.argv.slice(2);
const named = first !== undefined && !first.startsWith('-');
if (named && (first === 'list' || first === 'help')) {
  console.log(
    markdownTable(
      ['name', 'compares'],
      Object.entries(SUITES).map(([n, s]) => [n, s.compares]),
      ['l', 'l'],
    ),
  );
  console.log('\nRun one: pnpm bench <name> [arguments]; pnpm bench alone runs main.');
  process.exit(0);
}
const name = named ? first : 'main';
const suite = SUITES[name];
if (!suite) {
  console.error(`No benchmark named '${name}'; expected one of: ${Object.keys(SUITES).join(', ')} (or list).`);
  process.exit(2);
}
const script = fileURLToPath(new URL(`./${suite.file}`, import.meta.url));
const args = named ? rest : process.argv.slice(2);
const run = spawnSync(process.execPath, ['--import', 'tsx', script, ...args], { stdio: 'inherit' });
process.exit(run.status ?? 1);
