// A Hugging Face checkpoint folder whose config.json is edited in memory, for tests of configs that do not
// fit the weights or name another architecture. The shape is @tfjs-lora/core's ModelFiles (this package does
// not depend on core; `loadPretrained` takes the object as a ModelFiles of your own).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The folder {@link editedConfigFolder} returns: core's `ModelFiles` for a folder source. */
export interface EditedConfigFolder {
  /** `'a test folder'`. */
  readonly description: string;
  /** `['config.json', 'model.safetensors']`. */
  list(): Promise<string[]>;
  /** config.json's edited bytes, or another file's bytes from the folder. */
  read(name: string): Promise<Uint8Array | undefined>;
  /** Always undefined (no text files). */
  readText(name: string): Promise<string | undefined>;
  /** config.json's edited object; undefined for other files. */
  readJson(name: string): Promise<Record<string, unknown> | undefined>;
}

/**
 * The checkpoint folder `dir` (config.json + model.safetensors) as a ModelFiles object whose config.json is
 * `{ ...config.json, ...edit }`; the weights are the folder's own.
 */
export async function editedConfigFolder(dir: string, edit: Record<string, unknown>): Promise<EditedConfigFolder> {
  const config = { ...(JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as object), ...edit };
  return {
    description: 'a test folder',
    list: async () => ['config.json', 'model.safetensors'],
    read: async (name) =>
      name === 'config.json'
        ? new TextEncoder().encode(JSON.stringify(config))
        : readFile(join(dir, name)).then((b) => new Uint8Array(b)),
    readText: async () => undefined,
    readJson: async (name) => (name === 'config.json' ? { ...config } : undefined),
  };
}
