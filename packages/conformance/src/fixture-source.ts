// Where the PEFT reference cases are read from: the file system in Node, HTTP in a browser page.

/** Reads fixture files by path relative to the fixtures root (`peft-cases/linear/case.json`). */
export interface FixtureSource {
  /** Human-readable location, for messages. */
  readonly where: string;
  /** A file's bytes. */
  bytes(path: string): Promise<Uint8Array>;
  /** A file's text. */
  text(path: string): Promise<string>;
  /**
   * Where a file or folder is, as loaders take it (a path in Node, a URL in a page), so that a check can
   * load through `loadPretrained` / `loadPeftAdapter` the way users do. Optional: without it, checks read
   * through {@link FixtureSource.bytes}.
   */
  location?(path: string): string;
}

interface FsPromises {
  readFile(path: string): Promise<Uint8Array>;
  readdir(path: string, options: { withFileTypes: true }): Promise<{ name: string; isDirectory(): boolean }[]>;
}

async function fsPromises(): Promise<FsPromises> {
  const specifier = 'node:fs/promises'; // a variable: browser bundles must not resolve it
  return (await import(/* @vite-ignore */ specifier)) as FsPromises;
}

/** Fixtures on disk (Node). */
export function nodeFixtureSource(root: string): FixtureSource {
  return {
    where: root,
    bytes: async (path) => new Uint8Array(await (await fsPromises()).readFile(`${root}/${path}`)),
    text: async (path) => new TextDecoder().decode(await (await fsPromises()).readFile(`${root}/${path}`)),
    location: (path) => `${root}/${path}`,
  };
}

/** Fixtures served over HTTP (a browser page); `baseUrl` ends with '/'. */
export function fetchFixtureSource(baseUrl: string): FixtureSource {
  const get = async (path: string) => {
    const res = await fetch(baseUrl + path);
    if (!res.ok) throw new Error(`GET ${baseUrl + path}: HTTP ${res.status}`);
    return res;
  };
  return {
    where: baseUrl,
    bytes: async (path) => new Uint8Array(await (await get(path)).arrayBuffer()),
    text: async (path) => (await get(path)).text(),
    location: (path) => baseUrl + path,
  };
}

/** The case folders under `<root>/peft-cases` (Node), sorted; empty when the folder is absent. */
export async function listPeftCases(root: string): Promise<string[]> {
  try {
    const entries = await (await fsPromises()).readdir(`${root}/peft-cases`, { withFileTypes: true });
    return entries
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
  } catch {
    return [];
  }
}
