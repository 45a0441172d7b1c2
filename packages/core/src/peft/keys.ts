// PEFT's tensor names in adapter_model.safetensors, e.g. `base_model.model.<path>.lora_A.weight`
// (adapter name removed, as PEFT's get_peft_model_state_dict does).
import type * as tf from '@tensorflow/tfjs-core';
import type { LoraConfig } from '../config.js';
import { AdapterFormatError } from '../errors/index.js';
import '../builtin-layer-kinds.js';
import { listLayerKinds } from '../layer-kind.js';

/** The prefix of every key PEFT writes for a `PeftModel`. */
export const PEFT_KEY_PREFIX = 'base_model.model.';
/** PEFT's DoRA magnitude tensor name (saved without `.weight` since PEFT 0.12). */
export const MAGNITUDE_NAME = 'lora_magnitude_vector';
/** Factor names that PEFT stores as bare parameters (no `.weight` suffix). */
const BARE_FACTOR_NAMES = new Set(['lora_embedding_A', 'lora_embedding_B']);
const DEFAULT_PAIRS = [
  { loraA: 'lora_A', loraB: 'lora_B' },
  { loraA: 'lora_embedding_A', loraB: 'lora_embedding_B' },
];

/** Modules PEFT's task models add to modules_to_save (PeftModelForSequenceClassification, ...). */
export const TASK_MODULES_TO_SAVE: Readonly<Record<string, readonly string[]>> = {
  SEQ_CLS: ['classifier', 'score'],
  TOKEN_CLS: ['classifier', 'score'],
  QUESTION_ANS: ['qa_outputs'],
};

/** The key PEFT writes for a LoRA factor (`.weight` unless PEFT stores it as a bare parameter). */
export function factorKey(peftPath: string, peftName: string): string {
  return `${PEFT_KEY_PREFIX}${peftPath}.${peftName}${BARE_FACTOR_NAMES.has(peftName) ? '' : '.weight'}`;
}

/** The key of a module parameter (`<path>.<param>`, e.g. a modules_to_save weight or a bias). */
export function paramKey(peftPath: string, param: string): string {
  return `${PEFT_KEY_PREFIX}${peftPath}.${param}`;
}

/** What one key of an adapter file holds. */
export type PeftKeyRole =
  | { role: 'loraA' | 'loraB'; path: string; peftName: string }
  | { role: 'magnitude'; path: string }
  | { role: 'base_layer' | 'modules_to_save' | 'bias'; path: string; param: string };

/** modules_to_save as PEFT applies it: the config's list plus the task type's heads. */
export function effectiveModulesToSave(config: LoraConfig): string[] {
  const task = config.extra['task_type'];
  const extra = typeof task === 'string' ? (TASK_MODULES_TO_SAVE[task] ?? []) : [];
  return [...new Set([...(config.modulesToSave ?? []), ...extra])];
}

function factorPairs(): { loraA: string; loraB: string }[] {
  const pairs = [...DEFAULT_PAIRS];
  for (const a of listLayerKinds()) {
    if (!pairs.some((p) => p.loraA === a.peftNames.loraA && p.loraB === a.peftNames.loraB))
      pairs.push({ ...a.peftNames });
  }
  return pairs;
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The A/B name pair a factor name belongs to. */
export function pairOf(peftName: string): { loraA: string; loraB: string } | undefined {
  return factorPairs().find((p) => p.loraA === peftName || p.loraB === peftName);
}

/**
 * Classifies one key of an adapter file, as PEFT names them: LoRA factors (`<path>.lora_A.weight`,
 * `<path>.lora_embedding_A`, and any registered adapter's names), DoRA magnitudes, `<path>.base_layer.<param>`,
 * modules_to_save parameters (`<module>.<param>`, the module matching modules_to_save as PEFT matches it:
 * the module path or one of its parents ends with an entry) and biases (bias 'all' / 'lora_only').
 */
export function classifyPeftKey(key: string, config: LoraConfig, saved = effectiveModulesToSave(config)): PeftKeyRole {
  if (!key.startsWith(PEFT_KEY_PREFIX)) {
    throw new AdapterFormatError(
      `Adapter tensor ${JSON.stringify(key)} does not start with "${PEFT_KEY_PREFIX}", as every tensor of a PEFT adapter saved by ` +
        'save_pretrained does. Expected a PEFT LoRA adapter; other LoRA formats (kohya, diffusers) need converting first.',
      { tensor: key },
    );
  }
  const rest = key.slice(PEFT_KEY_PREFIX.length);
  const mag = new RegExp(`^(.+)\\.${MAGNITUDE_NAME}(?:\\.weight)?$`).exec(rest);
  if (mag) return { role: 'magnitude', path: mag[1]! };
  for (const pair of factorPairs()) {
    const m = new RegExp(`^(.+)\\.(${escape(pair.loraA)}|${escape(pair.loraB)})(?:\\.weight)?$`).exec(rest);
    if (m) return { role: m[2] === pair.loraA ? 'loraA' : 'loraB', path: m[1]!, peftName: m[2]! };
  }
  const base = /^(.+)\.base_layer\.([^.]+)$/.exec(rest);
  if (base) return { role: 'base_layer', path: base[1]!, param: base[2]! };
  const dot = rest.lastIndexOf('.');
  const path = rest.slice(0, dot);
  const param = rest.slice(dot + 1);
  if (dot > 0) {
    const parts = path.split('.');
    const isSaved = parts.some((_, i) => {
      const prefix = parts.slice(0, i + 1).join('.');
      return saved.some((m) => prefix.endsWith(m));
    });
    if (isSaved) return { role: 'modules_to_save', path, param };
    if (param === 'bias' && config.bias !== 'none') return { role: 'bias', path, param };
  }
  throw new AdapterFormatError(
    `Adapter tensor ${JSON.stringify(key)} is not a LoRA factor (${factorPairs()
      .map((p) => `${p.loraA}/${p.loraB}`)
      .join(', ')}), ` +
      `a ${MAGNITUDE_NAME}, a base_layer weight, a bias (bias is ${JSON.stringify(config.bias)}), or a parameter of a module in ` +
      `modules_to_save (${JSON.stringify(saved)}). Check that adapter_config.json belongs to these weights, or import the ` +
      'package whose layer kind uses these tensor names.',
    { tensor: key },
  );
}

/** The tensors of one file grouped by module path and role. */
export interface GroupedKeys {
  factors: Map<string, { loraA?: [string, string]; loraB?: [string, string]; magnitude?: string }>;
  weights: Map<string, { role: 'base_layer' | 'modules_to_save' | 'bias'; path: string; params: Map<string, string> }>;
}

/** Groups an adapter's keys by module (see {@link classifyPeftKey}); each entry keeps the key and factor name. */
export function groupPeftKeys(tensors: Readonly<Record<string, tf.Tensor>>, config: LoraConfig): GroupedKeys {
  const saved = effectiveModulesToSave(config);
  const out: GroupedKeys = { factors: new Map(), weights: new Map() };
  for (const key of Object.keys(tensors)) {
    const c = classifyPeftKey(key, config, saved);
    if ('peftName' in c || c.role === 'magnitude') {
      const entry = out.factors.get(c.path) ?? {};
      if ('peftName' in c) entry[c.role] = [key, c.peftName];
      else entry.magnitude = key;
      out.factors.set(c.path, entry);
    } else {
      const id = `${c.role}:${c.path}`;
      const entry = out.weights.get(id) ?? { role: c.role, path: c.path, params: new Map<string, string>() };
      entry.params.set(c.param, key);
      out.weights.set(id, entry);
    }
  }
  return out;
}
