import { applyLora, loadPeftAdapter, LoraError, type ModuleMap } from '@tfjs-lora/core';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BACKEND_HELP, selectBackend } from '../backend.js';
import { loadModelFiles, saveModelFiles } from '@tfjs-lora/core/node';
import type { CliCommand } from '../command.js';

/** Options of {@link mergeAdapterFiles}. */
export interface MergeOptions {
  /** model.json of a saved tfjs LayersModel. */
  model: string;
  /** PEFT adapter (directory, single file or URL). */
  adapter: string;
  /** Output directory for the merged model.json + weights.bin. */
  out: string;
  /** JSON file mapping PEFT module paths to layer names. */
  map?: string;
  /** false: skip adapter modules that match no layer. */
  strict?: boolean;
  /** Overwrite an existing model in `out`. */
  force?: boolean;
  /** Refuse (and write nothing) when the merged weights would hold NaN or Infinity (PEFT's safe_merge). */
  safeMerge?: boolean;
  /** `--backend`: auto (default), cpu, wasm, webgpu or native. */
  backend?: string;
}

function readMap(path: string): ModuleMap {
  let map: unknown;
  try {
    map = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new LoraError(
      `Cannot read the module map '${path}' (${(e as Error).message}); expected a JSON object {"peft.module.path": "layer_name"}.`,
    );
  }
  if (
    typeof map !== 'object' ||
    map === null ||
    Array.isArray(map) ||
    !Object.values(map).every((v) => typeof v === 'string' || v === null)
  ) {
    throw new LoraError(
      `The module map '${path}' must be a JSON object of strings (or null to skip), e.g. {"encoder.layer.0.q": "encoder_q_0"}.`,
    );
  }
  return map as ModuleMap;
}

/** Loads a model and an adapter, merges (PEFT's merge_and_unload) and saves a stock LayersModel. */
export async function mergeAdapterFiles(
  o: MergeOptions,
): Promise<{ modules: number; modulesToSave: number; skipped: readonly string[]; out: string }> {
  if (!o.force && existsSync(join(o.out, 'model.json'))) {
    throw new LoraError(
      `'${join(o.out, 'model.json')}' exists already; choose another --out or pass --force to overwrite it.`,
    );
  }
  await selectBackend(o.backend ?? 'auto');
  const moduleMap = o.map ? readMap(o.map) : undefined;
  const { model } = await loadModelFiles(o.model);
  const adapter = await loadPeftAdapter(o.adapter);
  try {
    const lm = applyLora(model, adapter, { moduleMap, strict: o.strict ?? true });
    try {
      // Both forms read nothing synchronously; safeMerge checks the merged weights with an awaited read.
      const merged = o.safeMerge ? await lm.mergeAndUnload({ safeMerge: true }) : lm.mergeAndUnload();
      await saveModelFiles(merged, o.out, { convertedBy: 'tfjs-lora merge' });
      merged.dispose();
      const source = lm.peftSource('default')!;
      return {
        modules: lm.loraLayers().length,
        modulesToSave: lm.savedModulePaths('default').length,
        skipped: source.skipped,
        out: join(o.out, 'model.json'),
      };
    } finally {
      lm.dispose();
    }
  } finally {
    adapter.dispose();
    model.dispose();
  }
}

/** `tfjs-lora merge --model <model.json> --adapter <dir> --out <dir>`. */
export const mergeCommand: CliCommand = {
  name: 'merge',
  register(program, ctx) {
    program
      .command('merge')
      .description(
        'merge a PEFT adapter into a saved TensorFlow.js LayersModel and write a stock LayersModel (no LoRA layers)',
      )
      .requiredOption('--model <model.json>', 'the base model (tfjs LayersModel model.json, weights beside it)')
      .requiredOption(
        '--adapter <dir>',
        'PEFT adapter directory (adapter_config.json + adapter_model.safetensors) or single-file adapter',
      )
      .requiredOption('--out <dir>', 'output directory for model.json + weights.bin')
      .option(
        '--map <file.json>',
        'JSON object mapping PEFT module paths to layer names, for models whose layer names differ',
      )
      .option('--no-strict', 'skip adapter modules that match no layer instead of failing')
      .option('--force', 'overwrite a model already in --out')
      .option(
        '--safe-merge',
        'check the merged weights for NaN/Infinity first and write nothing if any (PEFT safe_merge)',
      )
      .option('--backend <name>', BACKEND_HELP, 'auto')
      .action(async (opts: MergeOptions) => {
        const r = await mergeAdapterFiles(opts);
        ctx.io.out(
          `merged ${r.modules} LoRA module(s)${r.modulesToSave ? ` and ${r.modulesToSave} modules_to_save layer(s)` : ''} into ${r.out}\n`,
        );
        if (r.skipped.length > 0)
          ctx.io.out(`skipped ${r.skipped.length} adapter module(s) with no matching layer: ${r.skipped.join(', ')}\n`);
      });
  },
};
