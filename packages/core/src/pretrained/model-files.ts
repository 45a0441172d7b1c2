// A pretrained model's source, seen as a folder of named files: a Node path, a URL (http(s), file, hf://),
// browser Files or a Blob, bytes, or a tf.io IOHandler. Formats (formats.ts) read files by name from it.
import type * as tf from '@tensorflow/tfjs-core';
import { ModelFormatError } from '../errors/index.js';
import { nodeFileURLToPath, nodeFs, nodePath, pathKind } from '../node/fs.js';
import { hubUrl } from './hub.js';

/** A pretrained model's files, wherever they are: each file is read by its name relative to the model's folder. */
export interface ModelFiles {
  /** What the source is, for messages: the path, the URL, `'3 browser files'`, `'an IOHandler'`. */
  readonly description: string;
  /** The file the user named (`'model.json'`, `'m.keras'`), when a file rather than a folder was given. */
  readonly entry?: string;
  /** For URL sources: the folder's URL, ending in `/`. */
  readonly baseUrl?: string;
  /** When the source was a tf.io IOHandler (there are then no files to read). */
  readonly ioHandler?: tf.io.IOHandler;
  /** The file names, when the source can list them (a Node folder, browser files); undefined for URLs. */
  list(): Promise<string[] | undefined>;
  /** A file's bytes by relative name (`'model.json'`, `'group1-shard1of2.bin'`), or undefined when absent. */
  read(name: string): Promise<Uint8Array | undefined>;
  /** A file's text (UTF-8), or undefined when absent. */
  readText(name: string): Promise<string | undefined>;
  /** A JSON file's object, or undefined when absent; a {@link ModelFormatError} when it is not a JSON object. */
  readJson(name: string): Promise<Record<string, unknown> | undefined>;
}

/**
 * Where a pretrained model can come from. A string is a Node path (a folder, or a file such as
 * `model.json` / `m.keras`), an `http(s)://` or `file://` URL (folder or file), or `hf://org/name[@revision]`
 * (the Hugging Face Hub; see {@link hubUrl}). In browsers: `File`s from an `<input type="file" multiple>`
 * (a FileList or an array), one Blob/File, or a URL. Also: a single file's bytes, a tf.io IOHandler, or
 * a {@link ModelFiles} of your own.
 */
export type PretrainedSource =
  string | URL | Blob | File[] | FileList | Uint8Array | ArrayBuffer | tf.io.IOHandler | ModelFiles;

/** Options of `loadPretrained` and {@link openModelFiles}. Formats may read extra options of their own. */
export interface LoadPretrainedOptions {
  /** Use this format (by name) instead of trying each registered format. */
  format?: string;
  /** The fetch to use for URLs (default `globalThis.fetch`); pass one that adds auth headers, say. */
  fetch?: typeof fetch;
  /** The Hub's address for `hf://` sources (default: `HF_ENDPOINT` from the environment, else https://huggingface.co). */
  hubEndpoint?: string;
  /** The revision for `hf://` sources without `@revision` (default `'main'`). */
  revision?: string;
  /** The file name to give bytes passed as the source (default `'model'`; formats match on content). */
  fileName?: string;
  /** Called as the model's files are read (fraction 0..1 of the files a format reads, and what is read). */
  onProgress?: (fraction: number, message: string) => void;
  /** Further options for a particular format. */
  [option: string]: unknown;
}

function base(
  description: string,
  read: (name: string) => Promise<Uint8Array | undefined>,
  list: () => Promise<string[] | undefined>,
  extra: Partial<Pick<ModelFiles, 'entry' | 'baseUrl' | 'ioHandler'>> = {},
): ModelFiles {
  const readText = async (name: string): Promise<string | undefined> => {
    const bytes = await read(name);
    return bytes === undefined ? undefined : new TextDecoder().decode(bytes);
  };
  return {
    description,
    ...extra,
    list,
    read,
    readText,
    async readJson(name) {
      const text = await readText(name);
      if (text === undefined) return undefined;
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (e) {
        throw new ModelFormatError(
          `${name} in ${description} is not valid JSON (${(e as Error).message}); expected the file as its tool wrote it.`,
          { cause: e },
        );
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
        throw new ModelFormatError(`${name} in ${description} must hold a JSON object; found ${typeof parsed}.`);
      return parsed as Record<string, unknown>;
    },
  };
}

/** True for a {@link ModelFiles} object. */
function isModelFiles(x: unknown): x is ModelFiles {
  const m = x as Partial<ModelFiles> | null;
  return typeof m === 'object' && m !== null && typeof m.read === 'function' && typeof m.description === 'string';
}

function isIOHandler(x: unknown): x is tf.io.IOHandler {
  const h = x as Partial<tf.io.IOHandler> | null;
  return typeof h === 'object' && h !== null && (typeof h.load === 'function' || typeof h.save === 'function');
}

function isBlob(x: unknown): x is Blob {
  return typeof Blob !== 'undefined' && x instanceof Blob;
}

function fileName(f: Blob, fallback: string): string {
  const n = (f as Partial<File>).name;
  return typeof n === 'string' && n !== '' ? n.slice(n.lastIndexOf('/') + 1) : fallback;
}

/** Files chosen in a browser (or built in Node): matched by their base names. */
function fromBlobs(blobs: Blob[], fallback: string): ModelFiles {
  const byName = new Map(blobs.map((b) => [fileName(b, fallback), b]));
  const names = [...byName.keys()];
  const entry = names.length === 1 ? names[0] : names.find((n) => /(^model\.json$|\.keras$|\.h5$)/.test(n));
  return base(
    names.length === 1 ? `file '${names[0]}'` : `${names.length} files (${names.slice(0, 5).join(', ')})`,
    async (name) => {
      const b = byName.get(name.slice(name.lastIndexOf('/') + 1));
      return b === undefined ? undefined : new Uint8Array(await b.arrayBuffer());
    },
    async () => names,
    entry === undefined ? {} : { entry },
  );
}

function fromBytes(bytes: Uint8Array | ArrayBuffer, name: string): ModelFiles {
  const data = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  return base(
    `${data.byteLength} bytes`,
    async (n) => (n === name ? data : undefined),
    async () => [name],
    { entry: name },
  );
}

const FILE_LIKE = /\/[^/]*\.(json|keras|h5|safetensors|bin|zip)$/i;

function fromUrl(url: string, options: LoadPretrainedOptions): ModelFiles {
  const doFetch = options.fetch ?? (globalThis.fetch as typeof fetch | undefined);
  if (doFetch === undefined)
    throw new ModelFormatError(`Loading '${url}' needs fetch, which this runtime lacks; pass options.fetch.`);
  const parsed = new URL(url);
  const isFile = FILE_LIKE.test(parsed.pathname);
  const entry = isFile ? decodeURIComponent(parsed.pathname.slice(parsed.pathname.lastIndexOf('/') + 1)) : undefined;
  const folder = new URL(isFile ? '.' : parsed.pathname.endsWith('/') ? parsed.href : `${parsed.href}/`, parsed);
  folder.search = parsed.search;
  const baseUrl = folder.href;
  return base(
    url,
    async (name) => {
      const target = new URL(name.split('/').map(encodeURIComponent).join('/'), folder);
      target.search = parsed.search;
      let res: Response;
      try {
        res = await doFetch(target.href);
      } catch (e) {
        throw new ModelFormatError(
          `Could not fetch ${target.href}: ${(e as Error).message}. Check the URL and the network.`,
          {
            cause: e,
          },
        );
      }
      if (res.status === 404) return undefined;
      if (!res.ok)
        throw new ModelFormatError(
          `Fetching ${target.href} failed: HTTP ${res.status} ${res.statusText}. ` +
            (res.status === 401 || res.status === 403
              ? 'The file needs authorisation: pass options.fetch that adds the header (a Hub token, say).'
              : 'Check the URL.'),
        );
      return new Uint8Array(await res.arrayBuffer());
    },
    async () => undefined,
    entry === undefined ? { baseUrl } : { baseUrl, entry },
  );
}

async function fromPath(path: string): Promise<ModelFiles> {
  const fs = await nodeFs(
    'Loading a model from a path',
    'pass the files (File objects), bytes or an http(s) URL instead',
  );
  const p = await nodePath();
  const kind = await pathKind(fs, path);
  if (kind === null)
    throw new ModelFormatError(`No model at '${path}': the path does not exist. Pass a model folder or file.`);
  const dir = kind === 'dir' ? path : p.dirname(path);
  const entry = kind === 'file' ? p.basename(path) : undefined;
  return base(
    path,
    async (name) => {
      const file = p.join(dir, name);
      if ((await pathKind(fs, file)) !== 'file') return undefined;
      return new Uint8Array(await fs.readFile(file));
    },
    async () => (await fs.readdir(dir)).sort(),
    entry === undefined ? {} : { entry },
  );
}

/**
 * Resolves any {@link PretrainedSource} to a {@link ModelFiles}: the one way formats see a source. A
 * string is a URL when it has a scheme (`http:`, `https:`, `file:`, `hf:`), else a Node path.
 */
export async function openModelFiles(
  source: PretrainedSource,
  options: LoadPretrainedOptions = {},
): Promise<ModelFiles> {
  if (isModelFiles(source)) return source;
  if (source instanceof URL) return openModelFiles(source.href, options);
  if (typeof source === 'string') {
    if (/^hf:\/\//i.test(source)) return fromUrl(hubUrl(source, options), options);
    if (/^https?:\/\//i.test(source)) return fromUrl(source, options);
    if (/^file:\/\//i.test(source)) return fromPath((await nodeFileURLToPath())(source));
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(source))
      throw new ModelFormatError(
        `Unsupported scheme in '${source}'; expected a path, an http(s):// or file:// URL, or hf://org/name. ` +
          'For a tf.io URL (indexeddb://, localstorage://) pass tf.io.getLoadHandlers(url)[0] instead.',
      );
    return fromPath(source);
  }
  if (source instanceof Uint8Array || source instanceof ArrayBuffer)
    return fromBytes(source, options.fileName ?? 'model');
  if (isBlob(source)) return fromBlobs([source], options.fileName ?? 'model');
  if (Array.isArray(source) || (typeof FileList !== 'undefined' && source instanceof FileList)) {
    const list = Array.from(source as ArrayLike<Blob>);
    if (list.length === 0 || !list.every(isBlob))
      throw new ModelFormatError(
        `Expected File objects (an <input type="file" multiple> selection); found ${list.length} items.`,
      );
    return fromBlobs(list, options.fileName ?? 'model');
  }
  if (isIOHandler(source)) {
    if (typeof source.load !== 'function')
      throw new ModelFormatError('This IOHandler cannot load (it has no load()); pass one made for loading.');
    // Formats look at the artifacts to match, then load them: one load() call serves both.
    let loaded: Promise<tf.io.ModelArtifacts> | undefined;
    const handler: tf.io.IOHandler = { load: () => (loaded ??= source.load!()) };
    return base(
      'an IOHandler',
      async () => undefined,
      async () => [],
      { ioHandler: handler },
    );
  }
  throw new ModelFormatError(
    `Cannot read a model from ${source === null ? 'null' : typeof source}; expected a path, a URL, hf://org/name, File(s), bytes or a tf.io IOHandler.`,
  );
}
