// The text task's base model: the built-in character LM, or a Hugging Face causal LM (GPT-2) the user loads
// from files (config.json + model.safetensors + tokenizer.json) or a URL (https://…/config.json, hf://org/name).
// The worker loads it with core's loadPretrained and nlp's loadTokenizer; the page then offers its modules.
import type { Request, TextModelInfo } from '../protocol.js';
import { TASK_DEFAULTS, useTextModules } from './controls.js';
import { $ } from './dom.js';

/** What the control needs from the page. */
export interface TextModelHost {
  call<T>(request: Request): Promise<T>;
  log(message: string): void;
  fail(e: unknown): void;
  /** The text task's base changed: its adapters are gone and its modules are new. */
  changed(info: TextModelInfo): void;
}

/**
 * Wires the control; `enable` turns its buttons on once a worker runs, `reset` shows the built-in LM again
 * (a new worker starts with it).
 */
export function setupTextModel(host: TextModelHost): { enable(on: boolean): void; reset(): void } {
  const box = $('text-model');
  const info = $('text-model-info');
  const builtin = { all: [...TASK_DEFAULTS.text.all], on: [...TASK_DEFAULTS.text.on] };
  const builtinName = $('text-model-name').textContent ?? '';

  const load = async (request: Request, what: string): Promise<void> => {
    box.dataset['state'] = 'loading';
    info.textContent = `loading ${what}…`;
    try {
      const i = await host.call<TextModelInfo>(request);
      useTextModules(i.modules, i.defaultTargets);
      box.dataset['source'] = i.source;
      box.dataset['state'] = 'loaded';
      $('text-model-name').textContent = i.name;
      $('sample-base').textContent = i.source === 'builtin' ? 'Moby Dick' : 'base model';
      info.textContent =
        `${i.parameters.toLocaleString('en-US')} parameters, vocabulary ${i.vocabSize.toLocaleString('en-US')}, ` +
        `context ${i.context} tokens; the speeches are ${i.textTokens.toLocaleString('en-US')} tokens in its tokenizer. ` +
        `LoRA can target: ${i.modules.join(', ')}.`;
      host.log(`text task: base model ${i.name}`);
      host.changed(i);
    } catch (e) {
      box.dataset['state'] = 'error';
      info.textContent = `could not load ${what}: ${(e as Error).message}`;
      host.fail(e);
    }
  };

  $<HTMLInputElement>('text-model-files').addEventListener('change', (e) => {
    const input = e.target as HTMLInputElement;
    const files = [...(input.files ?? [])];
    if (files.length) void load({ type: 'textModel', files }, files.map((f) => f.name).join(', '));
    input.value = '';
  });
  $('text-model-load').addEventListener('click', () => {
    const url = $<HTMLInputElement>('text-model-url').value.trim();
    if (url) void load({ type: 'textModel', url }, url);
  });
  $('text-model-builtin').addEventListener('click', () => void load({ type: 'textModel' }, 'the built-in LM'));
  return {
    reset() {
      useTextModules(builtin.all, builtin.on);
      box.dataset['source'] = 'builtin';
      delete box.dataset['state'];
      $('text-model-name').textContent = builtinName;
      $('sample-base').textContent = 'Moby Dick';
      info.textContent = '';
    },
    enable(on: boolean) {
      $<HTMLButtonElement>('text-model-load').disabled = !on;
      $<HTMLButtonElement>('text-model-builtin').disabled = !on;
    },
  };
}
