// Node-only file access, imported lazily so that browser bundles of this package never load node built-ins.
import { LoraError } from '@tfjs-lora/core';

/** The subset of `node:fs/promises` used here. */
interface NodeFs {
  readFile(path: string): Promise<Uint8Array>;
  writeFile(path: string, data: Uint8Array | string): Promise<void>;
  mkdir(path: string, options: { recursive: boolean }): Promise<unknown>;
}

// Variable specifiers keep bundlers from resolving node built-ins for browser builds.
const FS = 'node:fs/promises';
const PATH = 'node:path';
const URL_MODULE = 'node:url';

function requireNode(what: string): void {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  if (typeof p?.versions?.node !== 'string') {
    throw new LoraError(
      `${what} needs Node.js (file system access). In a browser, load models from an http(s) URL instead.`,
    );
  }
}

/** `node:fs/promises`, `path.join` and `url.fileURLToPath` (Node only). */
export async function nodeIo(
  what: string,
): Promise<{ fs: NodeFs; join: (...parts: string[]) => string; fileURLToPath: (url: URL | string) => string }> {
  requireNode(what);
  const [fs, path, url] = await Promise.all([
    import(/* @vite-ignore */ FS),
    import(/* @vite-ignore */ PATH),
    import(/* @vite-ignore */ URL_MODULE),
  ]);
  return {
    fs: fs as NodeFs,
    join: (path as { join: (...p: string[]) => string }).join,
    fileURLToPath: (url as { fileURLToPath: (u: URL | string) => string }).fileURLToPath,
  };
}
