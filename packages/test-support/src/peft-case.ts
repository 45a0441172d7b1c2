// Node: one PEFT reference case of fixtures/peft-cases read into tensors.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES_ROOT, peftCasePath } from './fixtures.js';
import { peftCaseFileNames, peftCaseFromFiles, type PeftCase } from './peft-case-model.js';

/** Loads one case of fixtures/peft-cases with the test reader (dispose it with `disposeCase`). */
export function loadPeftCase(name: string): PeftCase {
  peftCasePath(name); // throws, naming the generator, when the case is missing
  const f = peftCaseFileNames(name);
  const text = (p: string) => readFileSync(join(FIXTURES_ROOT, p), 'utf8');
  const bytes = (p: string) => new Uint8Array(readFileSync(join(FIXTURES_ROOT, p)));
  return peftCaseFromFiles(name, {
    caseJson: text(f.caseJson),
    adapterConfigJson: text(f.adapterConfigJson),
    base: bytes(f.base),
    adapter: bytes(f.adapter),
    io: bytes(f.io),
  });
}
