// A real HTTP server on 127.0.0.1 that serves files in the Hugging Face Hub's URL layout,
// /<org>/<name>/resolve/<revision>/<file>, for tests of loading through hf:// (with a `hubEndpoint`) or a URL.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';

/** A running {@link startHubServer}. */
export interface HubServer {
  /** `http://127.0.0.1:<port>`: what `loadPretrained(..., { hubEndpoint })` takes. */
  readonly endpoint: string;
  /** Every request's path, in order (`'/tiny/gpt2-lm/resolve/main/config.json'`), answered or not. */
  readonly requested: string[];
  /** The URL of a repository's file on this server: `${endpoint}/<repo>/resolve/<revision>/<file>`. */
  url(repo: string, file: string): string;
  /** Stops the server (resolves once it is closed). */
  close(): Promise<void>;
}

/**
 * Starts a {@link HubServer}: a request for `/<org>/<name>/resolve/<revision>/<file>` is answered with the bytes
 * of the file `resolve('<org>/<name>', '<file>')` names on disk (the file part URL-decoded); a revision other than
 * `revision`, a path `resolve` returns undefined for, or a file that cannot be read is a 404.
 *
 * @example
 * const hub = await startHubServer((repo, file) => (repo.startsWith('tiny/') ? hfFixture(repo.slice(5), file) : undefined));
 * await loadPretrained('hf://tiny/gpt2-lm', { hubEndpoint: hub.endpoint });
 * await hub.close();
 */
export async function startHubServer(
  resolve: (repo: string, file: string) => string | undefined,
  revision = 'main',
): Promise<HubServer> {
  const requested: string[] = [];
  const server = createServer((req, res) => {
    requested.push(req.url!);
    const m = /^\/([\w.-]+\/[\w.-]+)\/resolve\/([^/]+)\/(.+)$/.exec(req.url!);
    const path = m && m[2] === revision ? resolve(m[1]!, decodeURIComponent(m[3]!)) : undefined;
    if (path === undefined) return void res.writeHead(404).end();
    readFile(path)
      .then((b) => res.writeHead(200).end(b))
      .catch(() => res.writeHead(404).end());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    endpoint,
    requested,
    url: (repo, file) => `${endpoint}/${repo}/resolve/${revision}/${file}`,
    close: () =>
      new Promise<void>((r, reject) => {
        server.close((e) => (e ? reject(e) : r()));
        server.closeAllConnections();
      }),
  };
}
