// loadPretrained: one door for pretrained models. Formats register themselves; core registers tfjs's
// LayersModel format (layers-format.ts).
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { LoraError, ModelFormatError, type FormatAttempt } from '../errors/index.js';
import { openModelFiles, type LoadPretrainedOptions, type ModelFiles, type PretrainedSource } from './model-files.js';

/**
 * The model types `loadPretrained` returns, keyed by format family. Plugins augment it so the return type
 * follows what is registered:
 *
 * @example
 * declare module '@tfjs-lora/core' {
 *   interface PretrainedModels { graph: GraphModel }
 * }
 */
export interface PretrainedModels {
  /** tfjs LayersModels (core's format, `@tfjs-lora/keras`, the Hugging Face architectures). */
  layers: LayersModel;
}

/** What `loadPretrained` returns: one of the {@link PretrainedModels}. */
export type PretrainedModel = PretrainedModels[keyof PretrainedModels];

/** A model file format `loadPretrained` reads. Register with {@link registerModelFormat}. */
export interface ModelFormat {
  /** Short name, used by `options.format` and in errors (`'tfjs-layers'`, `'tfjs-graph'`, `'keras'`, `'hf-text'`). */
  readonly name: string;
  /** The package a user imports to get this format (shown in the "nothing matched" error). */
  readonly packageName?: string;
  /** `true` when this format reads `files`, or a short reason why not (shown when no format matches). */
  match(files: ModelFiles, options: LoadPretrainedOptions): Promise<true | string>;
  /** Loads the model. Throws a {@link ModelFormatError} (or another LoraError) for malformed files. */
  load(files: ModelFiles, options: LoadPretrainedOptions): Promise<PretrainedModel>;
}

const formats: ModelFormat[] = [];

/** Registers a format for `loadPretrained`: most recently registered is tried first; the same object twice is a no-op. */
export function registerModelFormat(format: ModelFormat): void {
  if (formats.includes(format)) return;
  const same = formats.findIndex((f) => f.name === format.name);
  if (same >= 0) formats.splice(same, 1);
  formats.unshift(format);
}

/** Every registered format, in the order `loadPretrained` tries them. */
export function listModelFormats(): readonly ModelFormat[] {
  return [...formats];
}

/** Formats a user may import, for the "nothing matched" error. */
const KNOWN_PLUGINS =
  'import the package that reads them: @tfjs-lora/graph (tfjs GraphModels), @tfjs-lora/keras (.keras files), @tfjs-lora/nlp or @tfjs-lora/vision (Hugging Face checkpoints)';

/**
 * Loads a pretrained model from any source (a path, a URL, `hf://org/name`, browser Files, bytes, an
 * IOHandler) with the first registered format that reads it. Core reads tfjs LayersModels (`model.json` +
 * shards); `@tfjs-lora/graph` adds GraphModels, `@tfjs-lora/keras` Keras 3 `.keras` files, `@tfjs-lora/nlp`
 * and `@tfjs-lora/vision` Hugging Face checkpoints. When no format matches, the {@link ModelFormatError}
 * lists each format tried and why it did not match.
 *
 * @example
 * const model = await loadPretrained('./my-model/');          // model.json, a .keras file, an HF folder...
 * const lora = applyLora(model, { r: 8, targetModules: ['dense_1'] });
 */
export async function loadPretrained(
  source: PretrainedSource,
  options: LoadPretrainedOptions = {},
): Promise<PretrainedModel> {
  const files = await openModelFiles(source, options);
  if (options.format !== undefined) {
    const forced = formats.find((f) => f.name === options.format);
    if (!forced)
      throw new ModelFormatError(
        `No model format '${options.format}'; registered: ${formats.map((f) => f.name).join(', ')}. ${KNOWN_PLUGINS}.`,
      );
    return forced.load(files, options);
  }
  const attempts: FormatAttempt[] = [];
  for (const format of formats) {
    let verdict: true | string;
    try {
      verdict = await format.match(files, options);
    } catch (e) {
      if (!LoraError.isInstance(e)) throw e;
      verdict = e.message;
    }
    if (verdict === true) return format.load(files, options);
    attempts.push({ format: format.name, reason: verdict });
  }
  throw new ModelFormatError(
    `No registered model format reads ${files.description}. Tried:\n` +
      attempts.map((a) => `  - ${a.format}: ${a.reason}`).join('\n') +
      `\nFor other formats, ${KNOWN_PLUGINS}.`,
    { attempts },
  );
}
