// `tfjs-lora convert model.keras out/`: any model core's loadPretrained reads (a Keras 3 .keras file; a tfjs
// LayersModel; the formats of installed plugins), written as a tfjs LayersModel folder (model.json +
// weights.bin) that tf.loadLayersModel reads.
import * as tfl from '@tensorflow/tfjs-layers';
import { LoraError, loadPretrained } from '@tfjs-lora/core';
import { saveModelFiles } from '@tfjs-lora/core/node';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { selectBackend } from '../backend.js';
import { registerFormats } from './train-model.js';

/** Whether `input` names a pretrained model (rather than a PEFT adapter): a .keras/.h5 file or a model.json. */
export function isModelInput(input: string): boolean {
  if (/\.(keras|h5)$/i.test(input) || /(^|\/)model\.json$/i.test(input)) return true;
  if (/^[a-z]+:\/\//i.test(input)) return false;
  return existsSync(input) && statSync(input).isDirectory() && existsSync(join(input, 'model.json'));
}

/** Options of {@link convertModel}. */
export interface ConvertModelOptions {
  /** Overwrite an existing model.json in `outDir`. */
  force?: boolean;
}

/** Loads `input` with loadPretrained and writes it as a tfjs LayersModel folder; returns the model's size. */
export async function convertModel(
  input: string,
  outDir: string,
  o: ConvertModelOptions = {},
): Promise<{ layers: number; parameters: number }> {
  const target = join(outDir, 'model.json');
  if (!o.force && existsSync(target))
    throw new LoraError(`'${target}' exists already; choose another output folder or pass --force.`);
  await selectBackend('auto');
  await registerFormats();
  const model = await loadPretrained(input);
  if (!(model instanceof tfl.LayersModel))
    throw new LoraError(
      `'${input}' loads as a ${(model as object).constructor.name}; convert writes LayersModels only.`,
    );
  try {
    await saveModelFiles(model, outDir, { convertedBy: 'tfjs-lora convert' });
    return { layers: model.layers.length, parameters: model.countParams() };
  } finally {
    model.dispose();
  }
}
