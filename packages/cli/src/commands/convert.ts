import { LoraError, type PeftAdapterFiles } from '@tfjs-lora/core';
import { configText, decodePeftAdapter, readPeftFiles, toSingleFile } from '@tfjs-lora/core/peft';
import {
  decodeSafetensorsEntry,
  encodeSafetensors,
  f32ToBf16,
  f32ToF16,
  parseSafetensors,
  rawSafetensorsInputs,
  type SafetensorsTensorInput,
} from '@tfjs-lora/core/safetensors';
import { existsSync, statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { selectBackend } from '../backend.js';
import type { CliCommand } from '../command.js';
import { convertModel, isModelInput } from './convert-model.js';

/** Options of {@link convertAdapter}. */
export interface ConvertOptions {
  /** Store float tensors as f32, f16 or bf16 (default: as they are). */
  dtype?: 'f32' | 'f16' | 'bf16';
  /** Overwrite an existing output. */
  force?: boolean;
}

const DTYPES = { f32: 'F32', f16: 'F16', bf16: 'BF16' } as const;

function recode(weights: PeftAdapterFiles['weights'], dtype: ConvertOptions['dtype']): Uint8Array {
  const parsed = parseSafetensors(weights);
  const inputs = rawSafetensorsInputs(parsed.tensors);
  if (dtype) {
    const target = DTYPES[dtype];
    for (const e of parsed.tensors) {
      if (e.dtype !== 'F32' && e.dtype !== 'F16' && e.dtype !== 'BF16') continue;
      const values = decodeSafetensorsEntry(e, { copy: true }).values as Float32Array;
      const data = target === 'F16' ? f32ToF16(values) : target === 'BF16' ? f32ToBf16(values) : values;
      Object.defineProperty(inputs, e.name, {
        value: { dtype: target, shape: e.shape, data } satisfies SafetensorsTensorInput,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
  }
  return encodeSafetensors(inputs, parsed.metadata ?? { format: 'pt' });
}

/**
 * Converts between a PEFT adapter directory and the single-file form (one .safetensors with the config
 * in `__metadata__.adapter_config`): the output's form follows its name (`*.safetensors` → single file,
 * else a directory). The adapter is fully validated on the way; `dtype` re-stores float tensors.
 */
export async function convertAdapter(
  input: string,
  output: string,
  o: ConvertOptions = {},
): Promise<{ form: 'single-file' | 'directory'; bytes: number }> {
  if (o.dtype !== undefined && !(o.dtype in DTYPES))
    throw new LoraError(`--dtype must be f32, f16 or bf16; found '${o.dtype}'.`);
  const single = output.endsWith('.safetensors');
  const target = single ? output : join(output, 'adapter_config.json');
  if (!o.force && existsSync(target))
    throw new LoraError(`'${target}' exists already; choose another output or pass --force.`);
  if (single && existsSync(output) && statSync(output).isDirectory())
    throw new LoraError(`'${output}' is a directory; a single-file output needs a file name ending in .safetensors.`);
  await selectBackend('auto');
  const files = await readPeftFiles(input);
  decodePeftAdapter(files).dispose(); // validates config, tensors and names
  const converted: PeftAdapterFiles = { config: files.config, weights: recode(files.weights, o.dtype) };
  if (single) {
    const bytes = toSingleFile(converted);
    await writeFile(output, bytes);
    return { form: 'single-file', bytes: bytes.byteLength };
  }
  await mkdir(output, { recursive: true });
  const configBytes = new TextEncoder().encode(configText(decodeConfig(converted.config)));
  await writeFile(join(output, 'adapter_model.safetensors'), converted.weights as Uint8Array);
  await writeFile(join(output, 'adapter_config.json'), configBytes);
  return { form: 'directory', bytes: (converted.weights as Uint8Array).byteLength + configBytes.byteLength };
}

function decodeConfig(config: PeftAdapterFiles['config']): Record<string, unknown> {
  if (typeof config === 'object' && !(config instanceof Uint8Array)) return { ...config };
  return JSON.parse(typeof config === 'string' ? config : new TextDecoder().decode(config)) as Record<string, unknown>;
}

/** `tfjs-lora convert <input> <output>`. */
export const convertCommand: CliCommand = {
  name: 'convert',
  register(program, ctx) {
    program
      .command('convert')
      .description(
        'convert a PEFT adapter directory to a single .safetensors file (config in its metadata) or back, validating it; optionally re-store floats as f16/bf16. ' +
          'Given a model (model.keras, a model.json or its folder), write it as a tfjs LayersModel folder (model.json + weights.bin)',
      )
      .argument(
        '<input>',
        'PEFT adapter directory, single-file .safetensors adapter, http(s) URL; or a .keras file / model.json',
      )
      .argument(
        '<output>',
        'a name ending in .safetensors for the single-file form, else a directory (PEFT layout; for a model: the LayersModel folder)',
      )
      .option('--dtype <dtype>', 'store float tensors as f32, f16 or bf16')
      .option('--force', 'overwrite an existing output')
      .action(async (input: string, output: string, opts: ConvertOptions) => {
        if (isModelInput(input)) {
          const m = await convertModel(input, output, opts);
          ctx.io.out(
            `wrote tfjs LayersModel ${join(output, 'model.json')} (${m.layers} layers, ${m.parameters.toLocaleString('en-US')} parameters)\n`,
          );
          return;
        }
        const r = await convertAdapter(input, output, opts);
        ctx.io.out(
          `wrote ${r.form === 'single-file' ? 'single-file adapter' : 'PEFT adapter directory'} ${output} (${r.bytes.toLocaleString('en-US')} bytes)\n`,
        );
      });
  },
};
