// Node-only file access, imported lazily so that browser bundles never load node built-ins. One shim for
// every package: core's PEFT files, model folders (./model-files.ts), nlp's pretrained model.
import { LoraError } from '../errors/index.js';

/** The subset of `node:fs/promises` used here (injectable, so tests can make one step fail). */
export interface NodeFs {
  readFile(path: string): Promise<Uint8Array>;
  writeFile(path: string, data: Uint8Array | string, options?: { flag: string }): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  link(from: string, to: string): Promise<void>;
  copyFile(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  mkdir(path: string, options: { recursive: boolean }): Promise<unknown>;
  stat(path: string): Promise<{ isDirectory(): boolean; isFile(): boolean }>;
  readdir(path: string): Promise<string[]>;
  open(path: string, flags: string): Promise<{ sync(): Promise<void>; close(): Promise<void> }>;
}

/** The subset of `node:path` used here. */
export interface NodePath {
  join(...parts: string[]): string;
  dirname(p: string): string;
  basename(p: string): string;
}

/** True when running under Node.js (where directory paths are sources and targets). */
export function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === 'string';
}

/** What to do instead in a browser, for a reading or writing of PEFT adapter files (the default). */
export const ADAPTER_BROWSER_HINT =
  "pass {config, weights} bytes, an IOHandler (peftBrowserFiles, peftDownloads, 'indexeddb://name') or an http(s) URL instead";

/**
 * Throws a {@link LoraError} outside Node.js: `what` needs file system access; `browserHint` says what to
 * do in a browser instead.
 */
export function requireNode(what: string, browserHint = ADAPTER_BROWSER_HINT): void {
  if (!isNode()) {
    throw new LoraError(`${what} needs Node.js (file system access). In a browser, ${browserHint}.`);
  }
}

// A variable specifier keeps bundlers from resolving node built-ins for browser builds.
const FS = 'node:fs/promises';
const PATH = 'node:path';
const URL_MODULE = 'node:url';

/** `node:fs/promises` (Node only; elsewhere a {@link LoraError} saying `what` needs Node and what to do instead). */
export async function nodeFs(what = 'Reading or writing a directory', browserHint?: string): Promise<NodeFs> {
  requireNode(what, browserHint);
  return (await import(/* @vite-ignore */ FS)) as NodeFs;
}

/** `node:path` (Node only). */
export async function nodePath(browserHint?: string): Promise<NodePath> {
  requireNode('Path handling', browserHint);
  return (await import(/* @vite-ignore */ PATH)) as NodePath;
}

/** `url.fileURLToPath` of `node:url` (Node only). */
export async function nodeFileURLToPath(browserHint?: string): Promise<(url: URL | string) => string> {
  requireNode('Reading a file: URL', browserHint);
  return ((await import(/* @vite-ignore */ URL_MODULE)) as { fileURLToPath: (url: URL | string) => string })
    .fileURLToPath;
}

/** Whether `path` exists (and is a directory / file). */
export async function pathKind(fs: NodeFs, path: string): Promise<'dir' | 'file' | null> {
  try {
    const s = await fs.stat(path);
    return s.isDirectory() ? 'dir' : s.isFile() ? 'file' : null;
  } catch {
    return null;
  }
}

async function quietly(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch {
    // best-effort cleanup
  }
}

/**
 * Writes files into `dir` so that a failure leaves the files there as they were: each file goes to a
 * temporary name in the same directory (written and fsynced), then each is renamed over its final name.
 * If a rename fails, the files already replaced are restored from hard-link backups taken just before.
 * A crash between two renames can leave new and old files side by side (the loader then reports the
 * mismatch); no file is ever left half-written.
 */
export async function writeFilesAtomic(
  dir: string,
  files: readonly { name: string; data: Uint8Array }[],
  fs?: NodeFs,
): Promise<void> {
  const io = fs ?? (await nodeFs('Saving to a directory'));
  const path = await nodePath();
  const tag = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  const temps = files.map((f) => path.join(dir, `.${f.name}.tmp-${tag}`));
  const backups = files.map((f) => path.join(dir, `.${f.name}.bak-${tag}`));
  const finals = files.map((f) => path.join(dir, f.name));
  const fail = (step: string, e: unknown): never => {
    throw new LoraError(
      `Saving the adapter to '${dir}' failed while ${step} (${(e as Error).message ?? String(e)}); the files already there are unchanged.`,
      { cause: e },
    );
  };
  try {
    await io.mkdir(dir, { recursive: true });
    for (let i = 0; i < files.length; i++) {
      await io.writeFile(temps[i]!, files[i]!.data, { flag: 'wx' });
      const handle = await io.open(temps[i]!, 'r+');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
    }
  } catch (e) {
    await Promise.all(temps.map((t) => quietly(io.unlink(t))));
    fail('writing temporary files', e);
  }
  const hadOld: boolean[] = [];
  let renamed = 0;
  try {
    for (let i = 0; i < files.length; i++) {
      hadOld[i] = (await pathKind(io, finals[i]!)) === 'file';
      if (hadOld[i]) {
        try {
          await io.link(finals[i]!, backups[i]!);
        } catch {
          await io.copyFile(finals[i]!, backups[i]!);
        }
      }
      await io.rename(temps[i]!, finals[i]!);
      renamed = i + 1;
    }
  } catch (e) {
    for (let i = 0; i < renamed; i++) {
      if (hadOld[i]) await quietly(io.rename(backups[i]!, finals[i]!));
      else await quietly(io.unlink(finals[i]!));
    }
    await Promise.all([...temps, ...backups].map((t) => quietly(io.unlink(t))));
    fail('replacing the old files', e);
  }
  await Promise.all(backups.map((b) => quietly(io.unlink(b))));
}
