// What the page shows of the worker's answers: class probabilities as bars, text samples without and with
// the adapter, the adapters of the current task and the adapters saved in IndexedDB.
import type { AdapterInfo } from '../protocol.js';
import { $, el, pct } from './dom.js';

/** Probabilities as bars in the list `id` (the most likely class marked), labelled with `names`. */
export function renderBars(id: string, probs: number[], names: readonly string[]): void {
  const top = probs.indexOf(Math.max(...probs));
  $(id).replaceChildren(
    ...probs.map((p, i) =>
      el(
        'li',
        { class: i === top ? 'top' : '' },
        el('span', { class: 'name' }, names[i] ?? String(i)),
        el('span', { class: 'bar', style: `width:${Math.round(p * 60)}px` }),
        `${(100 * p).toFixed(0)}%`,
      ),
    ),
  );
  $(id).dataset['top'] = String(top);
}

/** The same prompt continued by the base model and by the adapter. */
export function renderSamples(s: { off: string; on: string; prompt: string }): void {
  $('sample-off').replaceChildren(el('b', {}, s.prompt), s.off);
  $('sample-on').replaceChildren(el('b', {}, s.prompt), s.on);
}

/** The adapters of the current task, `active` selected; the buttons that need one enabled only then. */
export function renderAdapterList(adapters: readonly AdapterInfo[], active: string | null): void {
  const select = $<HTMLSelectElement>('adapters');
  select.replaceChildren(
    ...adapters.map((a) =>
      el(
        'option',
        { value: a.name, selected: a.name === active },
        `${a.name} (${a.domain || a.task}, r=${a.r}${a.accuracy !== undefined ? `, ${pct(a.accuracy)}` : ''}, ${a.source})`,
      ),
    ),
  );
  select.dataset['active'] = active ?? '';
  for (const id of ['download', 'save-idb', 'merge', 'unmerge']) $<HTMLButtonElement>(id).disabled = !active;
}

/** The adapters saved in IndexedDB (keys shown without the demo's prefix). */
export function renderIdbList(keys: readonly string[]): void {
  $<HTMLSelectElement>('idb-list').replaceChildren(
    ...keys.map((k) => el('option', { value: k }, k.replace('indexeddb://tfjs-lora-demo/', ''))),
  );
}
