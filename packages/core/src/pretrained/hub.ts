// hf://org/name[@revision] → the Hub's resolve URL for the repository's files.
import { ModelFormatError } from '../errors/index.js';

/** Options of {@link hubUrl}. */
export interface HubUrlOptions {
  /** The Hub's address (default: `HF_ENDPOINT` from the environment, else `https://huggingface.co`). */
  hubEndpoint?: string;
  /** The revision when the id has no `@revision` (default `'main'`). */
  revision?: string;
}

/**
 * The folder URL from which the files of `hf://org/name[@revision]` are fetched, in the Hub's layout:
 * `<endpoint>/<org>/<name>/resolve/<revision>/` (a revision such as `refs/pr/1` is URL-encoded, as the Hub
 * expects). Point `hubEndpoint` (or `HF_ENDPOINT`) at a mirror or a local server that serves that layout.
 */
export function hubUrl(id: string, options: HubUrlOptions = {}): string {
  const rest = id.trim().replace(/^hf:\/\//i, '');
  const at = rest.indexOf('@');
  const repo = at < 0 ? rest : rest.slice(0, at);
  const rev = at < 0 ? undefined : rest.slice(at + 1);
  if (!/^hf:\/\//i.test(id.trim()) || !/^[\w.-]+(\/[\w.-]+)?$/.test(repo) || rev === '')
    throw new ModelFormatError(`'${id}' is not a Hub id; expected hf://org/name or hf://org/name@revision.`);
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.['HF_ENDPOINT'];
  const endpoint = (options.hubEndpoint ?? env ?? 'https://huggingface.co').replace(/\/+$/, '');
  const revision = encodeURIComponent(rev ?? options.revision ?? 'main');
  return `${endpoint}/${repo}/resolve/${revision}/`;
}
