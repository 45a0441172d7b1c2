import { inspectPeftAdapter, loadPeftAdapter, type PeftAdapterSummary } from '@tfjs-lora/core';
import { BACKEND_HELP, selectBackend } from '../backend.js';
import type { CliCommand } from '../command.js';

/** `inspect --json` output. */
export interface InspectJson {
  config: Record<string, unknown>;
  modules: {
    path: string;
    kind: string;
    in: number;
    out: number;
    r: number;
    alpha: number;
    scaling: number;
    params: number;
    deltaNorm: number | null;
  }[];
  /** modules_to_save / base_layer / bias tensors (not LoRA factors). */
  moduleWeights: PeftAdapterSummary['moduleWeights'];
  totalParams: number;
}

/** The JSON form of an adapter summary. */
export function inspectJson(s: PeftAdapterSummary): InspectJson {
  return {
    config: s.config,
    modules: s.modules.map(({ path, kind, in: inF, out, r, alpha, scaling, params, deltaNorm }) => ({
      path,
      kind,
      in: inF,
      out,
      r,
      alpha,
      scaling,
      params,
      deltaNorm,
    })),
    moduleWeights: s.moduleWeights,
    totalParams: s.totalParams,
  };
}

const num = (v: number): string =>
  Number.isInteger(v) ? v.toLocaleString('en-US') : Number(v.toPrecision(6)).toString();
const list = (v: unknown): string =>
  Array.isArray(v) ? v.join(', ') : v === null || v === undefined ? '-' : String(v);

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows
    .map((r) =>
      r
        .map((cell, c) => (c < 2 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** The human-readable report of `tfjs-lora inspect`. */
export function formatInspect(s: PeftAdapterSummary, source: string): string {
  const c = s.config;
  const lines = [
    `PEFT LoRA adapter ${source}`,
    `  base model: ${list(c['base_model_name_or_path'])}   task: ${list(c['task_type'])}   peft_version: ${list(c['peft_version'])}`,
    `  r=${c['r']}  lora_alpha=${c['lora_alpha']}  lora_dropout=${c['lora_dropout'] ?? 0}  use_rslora=${c['use_rslora'] ?? false}  use_dora=${c['use_dora'] ?? false}  ` +
      `fan_in_fan_out=${c['fan_in_fan_out'] ?? false}  bias=${c['bias'] ?? 'none'}`,
    `  target_modules: ${list(c['target_modules'])}   modules_to_save: ${list(c['modules_to_save'])}`,
    `  ${s.modules.length} LoRA modules, ${num(s.totalParams)} parameters in the file`,
    '',
    table([
      ['module', 'kind', 'in', 'out', 'r', 'alpha', 'scaling', 'params', '‖ΔW‖'],
      ...s.modules.map((m) => [
        m.path,
        m.kind + (m.dora ? '+dora' : ''),
        num(m.in),
        num(m.out),
        num(m.r),
        num(m.alpha),
        num(m.scaling),
        num(m.params),
        m.deltaNorm === null ? '-' : num(m.deltaNorm),
      ]),
    ]),
  ];
  if (s.moduleWeights.length > 0) {
    lines.push('', 'whole-module tensors:');
    for (const w of s.moduleWeights) {
      lines.push(
        `  ${w.path} (${w.role}): ${w.tensors.map((t) => `${t.name} [${t.shape.join(', ')}]`).join(', ')}  ${num(w.params)} params`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

/** `tfjs-lora inspect <adapter> [--json]`. */
export const inspectCommand: CliCommand = {
  name: 'inspect',
  register(program, ctx) {
    program
      .command('inspect')
      .description(
        "show an adapter's config and, per LoRA module: kind, in, out, rank, alpha, scaling, parameters, ‖ΔW‖ (Frobenius)",
      )
      .argument('<adapter>', 'PEFT adapter directory, single-file .safetensors adapter, or http(s) URL of a directory')
      .option(
        '--json',
        'print {config, modules: [{path, kind, in, out, r, alpha, scaling, params, deltaNorm}], moduleWeights, totalParams}',
      )
      .option('--backend <name>', BACKEND_HELP, 'auto')
      .action(async (source: string, opts: { json?: boolean; backend: string }) => {
        await selectBackend(opts.backend);
        const adapter = await loadPeftAdapter(source);
        try {
          const summary = await inspectPeftAdapter(adapter);
          ctx.io.out(opts.json ? `${JSON.stringify(inspectJson(summary), null, 2)}\n` : formatInspect(summary, source));
        } finally {
          adapter.dispose();
        }
      });
  },
};
