// The training controls: each task's defaults, the form read as TrainSettings, the target-module
// checkboxes, the trainable-parameter table and the domain list.
import type { DataManifest, ParamsResult, Task, TrainSettings } from '../protocol.js';
import { $, el } from './dom.js';

/** Each task's target modules (all offered, those on by default) and training defaults. */
export const TASK_DEFAULTS: Record<
  Task,
  { all: string[]; on: string[]; r: number; alpha: number; lr: number; batch: number }
> = {
  vision: {
    all: ['conv1', 'conv2', 'fc1', 'head'],
    on: ['conv1', 'conv2', 'fc1', 'head'],
    r: 4,
    alpha: 8,
    lr: 0.003,
    batch: 32,
  },
  text: {
    all: ['query', 'key', 'value', 'output', 'fc_in', 'fc_out', 'wte'],
    on: ['query', 'value'],
    r: 8,
    alpha: 16,
    lr: 0.005,
    batch: 16,
  },
};

/**
 * The text task's modules come from its base model: the built-in character LM's above, or those of a
 * Hugging Face model the user loaded (`c_attn`, `c_proj`, `c_fc`, … for GPT-2).
 */
export function useTextModules(all: readonly string[], on: readonly string[]): void {
  TASK_DEFAULTS.text.all = [...all];
  TASK_DEFAULTS.text.on = [...on];
}

/** The number in the input `id`. */
export const num = (id: string): number => Number($<HTMLInputElement>(id).value);

/** Puts `task`'s defaults into the form and offers its target modules. */
export function showTaskDefaults(task: Task): void {
  const t = TASK_DEFAULTS[task];
  $<HTMLInputElement>('rank').value = String(t.r);
  $<HTMLInputElement>('alpha').value = String(t.alpha);
  $<HTMLInputElement>('lr').value = String(t.lr);
  $<HTMLInputElement>('batch').value = String(t.batch);
  $<HTMLInputElement>('adapter-name').value = task === 'vision' ? 'inverted-r4' : 'speech-r8';
  $('targets').replaceChildren(
    el('legend', {}, 'target modules'),
    ...t.all.map((name) =>
      el(
        'label',
        {},
        el('input', { type: 'checkbox', name: 'target', value: name, checked: t.on.includes(name) }),
        ` ${name}`,
      ),
    ),
  );
}

/** The target modules ticked. */
export function targets(): string[] {
  return [...document.querySelectorAll<HTMLInputElement>('input[name=target]:checked')].map((i) => i.value);
}

/** The form as the worker's training settings. */
export function settings(task: Task): TrainSettings {
  return {
    task,
    adapterName: $<HTMLInputElement>('adapter-name').value.trim() || 'default',
    domain: $<HTMLSelectElement>('domain').value,
    r: num('rank'),
    loraAlpha: num('alpha'),
    targets: targets(),
    learningRate: num('lr'),
    epochs: num('epochs'),
    trainSize: num('train-size'),
    testSize: num('test-size'),
    batchSize: num('batch'),
    steps: num('steps'),
  };
}

/** The trainable parameters per layer: full fine-tuning against LoRA at rank `r`. */
export function renderParams(p: ParamsResult, r: number): void {
  const row = (cells: (string | number)[], cls = '') =>
    el('tr', { class: cls }, ...cells.map((c) => el('td', {}, typeof c === 'number' ? c.toLocaleString('en-US') : c)));
  $('params').replaceChildren(
    el('tr', {}, el('th', {}, 'layer'), el('th', {}, 'full fine-tuning'), el('th', {}, `LoRA r=${r}`)),
    ...p.rows.filter((x) => x.base > 0).map((x) => row([x.layer, x.base, x.lora || '–'])),
    row(
      ['total trainable', p.full, `${p.lora.toLocaleString('en-US')} (${((100 * p.lora) / p.full).toFixed(2)}%)`],
      'total',
    ),
  );
}

/** The domains of the data manifest (unavailable ones disabled, with why), and whether text is on offer. */
export function renderDomains(manifest: DataManifest): void {
  $<HTMLSelectElement>('domain').replaceChildren(
    ...manifest.domains.map((d) =>
      el(
        'option',
        { value: d.id, disabled: !d.available, title: d.reason ?? '' },
        d.available
          ? `${d.label} (${d.trainCount} train, ${d.testCount} test)`
          : `${d.label}: unavailable (${d.reason})`,
      ),
    ),
  );
  const text = $<HTMLInputElement>('task-text');
  text.disabled = !manifest.text.available;
  $('text-reason').textContent = manifest.text.available ? '' : `Text task unavailable: ${manifest.text.reason}`;
}
