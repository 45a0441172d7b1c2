// Where the repository's fixtures are: packages/test-support/fixtures, written by
// scripts/generate-fixtures.py (Hugging Face PEFT, offline). Paths work from src/ and from dist/.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The fixtures folder of this package (holding `peft-cases/`, `peft-real/`, `peft-real-reference.json`). */
export const FIXTURES_ROOT: string = fileURLToPath(new URL('../fixtures/', import.meta.url)).replace(/\/$/, '');

/** Throws when a fixture is missing: the fixtures are committed, so a missing one is a broken checkout. */
function existing(path: string, what: string): string {
  if (!existsSync(path)) {
    throw new Error(
      `${what} not found at ${path}: the fixtures are part of the repository (regenerate them with ` +
        'packages/test-support/scripts/generate-fixtures.py, see packages/test-support/README.md)',
    );
  }
  return path;
}

/** The folder of one PEFT reference case (`peft-cases/<name>`: case.json, base/io.safetensors, adapter/). */
export function peftCasePath(name: string): string {
  return existing(join(FIXTURES_ROOT, 'peft-cases', name), `PEFT case '${name}'`);
}

/** The folder of one PEFT adapter of a real architecture (`peft-real/<name>`: adapter_config.json, weights). */
export function peftRealPath(name: string): string {
  return existing(join(FIXTURES_ROOT, 'peft-real', name), `PEFT adapter '${name}'`);
}

/** The names of every PEFT reference case, sorted. */
export function peftCaseNames(): string[] {
  const dir = existing(join(FIXTURES_ROOT, 'peft-cases'), 'peft-cases');
  return readdirSync(dir)
    .filter((n) => statSync(join(dir, n)).isDirectory())
    .sort();
}

/** One LoRA module of a peft-real adapter as PEFT sees it after `PeftModel.from_pretrained`. */
export interface PeftRealModule {
  path: string;
  fan_in_fan_out: boolean;
  lora_A: number[];
  lora_B: number[];
  r: number;
  alpha: number;
  scaling: number;
  params: number;
  /** ‖get_delta_weight()‖ in float64. */
  delta_norm: number;
  /** The orientation PEFT adds ΔW in: nn.Linear `[out,in]`, GPT-2 Conv1D `[in,out]`. */
  delta_orientation: '[out,in]' | '[in,out]';
  /** `[i, j, ΔW[i, j]]` in that orientation. */
  delta_samples: [number, number, number][];
}

/** One modules_to_save head of a peft-real adapter as PEFT loaded it. */
export interface PeftRealSaved {
  path: string;
  weight: number[];
  weight_norm: number;
  weight_00: number;
  has_bias: boolean;
}

/** PEFT's own view of one peft-real adapter (from fixtures/peft-real-reference.json). */
export interface PeftRealReference {
  modules: PeftRealModule[];
  modules_to_save: PeftRealSaved[];
  use_rslora: boolean;
  fan_in_fan_out: boolean;
}

/** PEFT's own view of a peft-real adapter, written beside it by the generator. */
export function peftRealReference(name: string): PeftRealReference {
  const all = JSON.parse(
    readFileSync(existing(join(FIXTURES_ROOT, 'peft-real-reference.json'), 'peft-real-reference.json'), 'utf8'),
  ) as Record<string, PeftRealReference>;
  const ref = all[name];
  if (!ref) throw new Error(`peft-real-reference.json has no entry '${name}'`);
  return ref;
}

/** Every .safetensors file under the fixtures, sorted. */
export function fixtureFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.safetensors')) out.push(p);
    }
  };
  walk(existing(FIXTURES_ROOT, 'fixtures'));
  return out.sort();
}
