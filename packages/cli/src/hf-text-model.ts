// Hugging Face text checkpoints (@tfjs-lora/nlp's 'hf-text' format) as 2-class sequence classifiers for
// `tfjs-lora train --model <folder or hf://...> --task text`: which head to build, what LoRA targets, the
// tokenizer. A *ForSequenceClassification checkpoint keeps its head (a new 2-unit one when it has another
// count); a base model or GPT-2 LM is loaded as its family's *ForSequenceClassification, whose head starts
// from transformers' normal(0, 0.02) init, as AutoModelForSequenceClassification.from_pretrained does.
import * as tfl from '@tensorflow/tfjs-layers';
import { LoraConfigError, loadPretrained, type ModelFiles } from '@tfjs-lora/core';
import { HF_CONFIG_NAME, hfArchitecture } from '@tfjs-lora/core/pretrained';
import type { HfTokenizer } from '@tfjs-lora/nlp';

/** The model families the 'hf-text' format builds, by config.json `model_type`. */
const FAMILIES = {
  gpt2: { classifier: 'GPT2ForSequenceClassification', head: 'score', targets: ['c_attn'] },
  bert: { classifier: 'BertForSequenceClassification', head: 'classifier', targets: ['query', 'value'] },
  distilbert: {
    classifier: 'DistilBertForSequenceClassification',
    head: 'classifier',
    targets: ['q_lin', 'v_lin'],
  },
} as const;

/** A config.json the 'hf-text' format reads, with its family. */
export interface HfTextSource {
  files: ModelFiles;
  config: Record<string, unknown>;
  family: keyof typeof FAMILIES;
}

/** A loaded 2-class classifier and what training it needs to know. */
export interface HfClassifier {
  model: tfl.LayersModel;
  /** Layers trained in full and saved as PEFT modules_to_save (the head, and any newly initialised layer). */
  modulesToSave: string[];
  /** PEFT's default LoRA targets of the family (its attention projections). */
  defaultTargets: string[];
  /** The padding id to tokenize with. */
  padTokenId: number;
  /** Longest input the position embeddings allow. */
  maxPositions: number;
  /** What was done to get a 2-class head (one line), or undefined when the checkpoint's head was kept. */
  note?: string;
  /** Disposes the model (and a replaced head). */
  dispose(): void;
}

/** The Hugging Face text config of a folder, URL or hf:// source, or undefined when it is not one. */
export async function hfTextSource(files: ModelFiles): Promise<HfTextSource | undefined> {
  if (files.entry !== undefined) return undefined; // a single file (model.json, .keras): not a checkpoint folder
  const config = await files.readJson(HF_CONFIG_NAME);
  const type = config?.['model_type'];
  if (config === undefined || typeof type !== 'string' || !(type in FAMILIES)) return undefined;
  return { files, config, family: type as keyof typeof FAMILIES };
}

/** The source with config.json replaced (for GPT-2 without a pad_token_id). */
function withConfig(files: ModelFiles, config: Record<string, unknown>): ModelFiles {
  const bytes = new TextEncoder().encode(JSON.stringify(config));
  return {
    description: files.description,
    ...(files.baseUrl === undefined ? {} : { baseUrl: files.baseUrl }),
    list: () => files.list(),
    read: async (name) => (name === HF_CONFIG_NAME ? bytes : files.read(name)),
    readText: async (name) => (name === HF_CONFIG_NAME ? JSON.stringify(config) : files.readText(name)),
    readJson: async (name) => (name === HF_CONFIG_NAME ? { ...config } : files.readJson(name)),
  };
}

function labelCount(config: Record<string, unknown>): number {
  const id2label = config['id2label'];
  if (id2label && typeof id2label === 'object') return Object.keys(id2label).length;
  return typeof config['num_labels'] === 'number' ? config['num_labels'] : 2;
}

/** `model` with its last Dense layer (`classifier` / `score`) replaced by a 2-unit one of the same name. */
function withTwoLabels(model: tfl.LayersModel, head: string): tfl.LayersModel {
  const last = model.layers.at(-1)!;
  const useBias = last.getConfig()['useBias'] !== false;
  const logits = tfl.layers
    .dense({
      name: head,
      units: 2,
      useBias,
      kernelInitializer: tfl.initializers.randomNormal({ stddev: 0.02, seed: 1 }),
    })
    .apply(last.input as tfl.SymbolicTensor) as tfl.SymbolicTensor;
  return tfl.model({ inputs: model.inputs, outputs: logits, name: model.name });
}

/** Loads the checkpoint as a 2-class sequence classifier (see the file's comment). */
export async function loadHfClassifier(source: HfTextSource): Promise<HfClassifier> {
  const family = FAMILIES[source.family];
  let config = source.config;
  const notes: string[] = [];
  const pad = config['pad_token_id'];
  let padTokenId = typeof pad === 'number' ? pad : 0;
  if (typeof pad !== 'number') {
    const eos = config['eos_token_id'];
    padTokenId = typeof eos === 'number' ? eos : 0;
    if (source.family === 'gpt2') {
      // As PEFT's GPT-2 recipes do (model.config.pad_token_id = tokenizer.eos_token_id): the classifier pools
      // the last token that is not padding.
      config = { ...config, pad_token_id: padTokenId };
      notes.push(`config.json has no pad_token_id: using eos_token_id ${padTokenId}, as PEFT recipes for GPT-2 do`);
    }
  }
  const files = config === source.config ? source.files : withConfig(source.files, config);
  const arch = hfArchitecture(config);
  const keepHead = arch === family.classifier;
  const loaded = (await loadPretrained(
    files,
    keepHead ? { format: 'hf-text' } : { format: 'hf-text', architecture: family.classifier, numLabels: 2 },
  )) as tfl.LayersModel;
  const meta = loaded.getUserDefinedMetadata() as { huggingFace?: { newlyInitialized?: string[] } } | undefined;
  const newly = meta?.huggingFace?.newlyInitialized ?? [];
  if (!keepHead) notes.push(`${arch} loaded as ${family.classifier} with a new 2-class head (${newly.join(', ')})`);
  let model = loaded;
  const labels = keepHead ? labelCount(config) : 2;
  if (labels !== 2) {
    model = withTwoLabels(loaded, family.head);
    notes.push(`the checkpoint's ${labels}-class '${family.head}' replaced by a new 2-class one`);
  }
  const positions = config['max_position_embeddings'] ?? config['n_positions'];
  return {
    model,
    modulesToSave: [...new Set([family.head, ...newly])],
    defaultTargets: [...family.targets],
    padTokenId,
    maxPositions: typeof positions === 'number' ? positions : 512,
    ...(notes.length > 0 ? { note: notes.join('; ') } : {}),
    dispose() {
      if (model !== loaded) {
        model.dispose();
        loaded.layers.at(-1)!.dispose(); // the replaced head, which only `loaded` used
      } else loaded.dispose();
    },
  };
}

/** The model's tokenizer (tokenizer.json beside config.json), or a LoraConfigError that says what to do. */
export async function loadHfTokenizer(source: HfTextSource, where: string): Promise<HfTokenizer> {
  const { loadTokenizer } = await import('@tfjs-lora/nlp');
  if ((await source.files.readJson('tokenizer.json')) === undefined)
    throw new LoraConfigError(
      `train --task text tokenizes with the model's tokenizer.json; none found in ${where}. Expected the fast ` +
        "tokenizer's file beside config.json: save it with AutoTokenizer.from_pretrained(name).save_pretrained(folder) " +
        'in Python, or copy tokenizer.json (and tokenizer_config.json) from the model on the Hub.',
      { field: 'model' },
    );
  return loadTokenizer(source.files);
}
