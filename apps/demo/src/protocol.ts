// Messages between the page (UI) and the training worker (tfjs). Every request carries an id; the worker
// answers it once ({id, ok, result | error}) and sends progress events ({event}) in between.

/** A backend the worker knows, with core's availability verdict. */
export interface BackendStatus {
  name: string;
  ok: boolean;
  reason?: string;
}

/** What is in dist/data/manifest.json (written at build time). */
export interface DataManifest {
  domains: DomainInfo[];
  text: { available: boolean; reason?: string; file?: string; chars?: number; source?: string };
}

/** One vision domain the build produced (or could not). */
export interface DomainInfo {
  id: string;
  label: string;
  available: boolean;
  reason?: string;
  train?: string;
  test?: string;
  trainCount?: number;
  testCount?: number;
  classes: string[];
  /** Whether drawing a digit makes sense (digit domains). */
  drawable: boolean;
}

/** Which task an adapter belongs to. */
export type Task = 'vision' | 'text';

/** The LoRA and training settings of one run. */
export interface TrainSettings {
  task: Task;
  adapterName: string;
  domain: string;
  r: number;
  loraAlpha: number;
  targets: string[];
  learningRate: number;
  /** Vision: passes over the training subset. */
  epochs: number;
  /** Vision: training examples used (≤ the shipped subset). */
  trainSize: number;
  /** Vision: test examples used for accuracy. */
  testSize: number;
  batchSize: number;
  /** Text: optimizer steps. */
  steps: number;
}

/** One row of the parameter table. */
export interface ParamRow {
  layer: string;
  base: number;
  lora: number;
}

/** An adapter the worker holds. */
export interface AdapterInfo {
  name: string;
  task: Task;
  domain: string;
  r: number;
  loraAlpha: number;
  targets: string[];
  accuracy?: number;
  source: 'trained' | 'file' | 'indexeddb';
}

export type Request =
  | {
      type: 'init';
      backend: string;
      /** wasm threads to ask for (default: every core, at most 8). */ wasmThreads?: number;
    }
  | { type: 'params'; task: Task; r: number; targets: string[] }
  | { type: 'train'; settings: TrainSettings }
  | { type: 'stop' }
  | { type: 'predict'; pixels: Float32Array }
  | { type: 'testImage'; domain: string; index: number }
  | { type: 'sample'; prompt: string; tokens: number; seed: number }
  | { type: 'setAdapter'; task: Task; name: string }
  | { type: 'encode'; task: Task; name: string }
  | { type: 'saveIdb'; task: Task; name: string }
  | { type: 'listIdb' }
  | { type: 'loadIdb'; key: string; name: string }
  | { type: 'loadFiles'; name: string; config: Uint8Array; weights: Uint8Array }
  | { type: 'latency'; task: Task; merge: boolean }
  | { type: 'byomLoad'; files?: File[]; url?: string }
  /** The text task's base model: a Hugging Face causal LM from files or a URL, or (neither) the built-in char LM. */
  | { type: 'textModel'; files?: File[]; url?: string }
  | { type: 'byomTrain'; settings: ByomSettings }
  | { type: 'byomEncode'; name: string };

/** The text task's base model. */
export interface TextModelInfo {
  /** 'builtin' (the Moby Dick character LM) or 'hf' (a Hugging Face causal LM). */
  source: 'builtin' | 'hf';
  /** Shown name: the architecture and where it came from. */
  name: string;
  vocabSize: number;
  /** Longest window of tokens the model takes (its position table). */
  context: number;
  /** Tokens of the speeches under its tokenizer (training and held-out text together). */
  textTokens: number;
  /** Module names LoRA may target (the layers' last path segments), and those ticked by default. */
  modules: string[];
  defaultTargets: string[];
  /** Parameters of the base model. */
  parameters: number;
}

/** An input or output of a loaded model. */
export interface ByomTensor {
  name: string;
  shape: (number | null)[];
  dtype: string;
}

/** What "bring your model" loaded. */
export interface ByomInfo {
  /** The `loadPretrained` format that read it ('tfjs-layers', 'tfjs-graph', 'keras', 'hf-text', 'hf-vision'). */
  format: string;
  kind: 'LayersModel' | 'GraphModel';
  inputs: ByomTensor[];
  outputs: ByomTensor[];
  /** Layers (LayersModel) or graph nodes (GraphModel). */
  count: number;
  countLabel: 'layers' | 'nodes';
  /** The modules (layer names or node module paths) LoRA can target. */
  targets: string[];
  /** The task the demo trains it on: digits resized to its image input, or two-class token windows. */
  task: 'image' | 'tokens' | null;
  /** Whether a tokenizer.json came with it (token tasks). */
  tokenizer: boolean;
}

/** LoRA and training settings of a "bring your model" run. */
export interface ByomSettings {
  adapterName: string;
  r: number;
  loraAlpha: number;
  targets: string[];
  learningRate: number;
  steps: number;
  batchSize: number;
}

/** The result of a "bring your model" run. */
export interface ByomTrainResult {
  task: string;
  classes: number;
  baseAccuracy: number;
  accuracy: number;
  firstLoss: number;
  lastLoss: number;
  parameters: { trainable: number; total: number; percent: number };
  seconds: number;
  tfBackend: string;
}

export interface InitResult {
  backend: string;
  backends: BackendStatus[];
  manifest: DataManifest;
  /** Whether the worker is cross-origin isolated (SharedArrayBuffer, so wasm can use threads). */
  crossOriginIsolated: boolean;
  /** wasm only: the threads XNNPACK runs with (`wasmThreadsCount()`). */
  wasmThreads?: number;
}

export interface TrainResult {
  adapter: AdapterInfo;
  baseAccuracy?: number;
  accuracy?: number;
  /** Vision: mean cross-entropy on the test subset before and after training. */
  baseTestLoss?: number;
  testLoss?: number;
  /** Text: perplexity on held-out speeches before and after training. */
  basePerplexity?: number;
  perplexity?: number;
  /** Core's count for the trained LoRA model (active adapter). */
  parameters: { trainable: number; total: number; percent: number };
  /** Mean loss of the first steps (vision: three). */
  firstLoss: number;
  /** Mean loss of the last steps (vision: three). */
  lastLoss: number;
  seconds: number;
  stopped: boolean;
  /** tfjs's active backend (`tf.getBackend()`) in the worker when training ended: the one that trained. */
  tfBackend?: string;
  samples?: { off: string; on: string; prompt: string };
}

export interface PredictResult {
  off: number[];
  on: number[];
  adapter: string | null;
}

export interface LatencyResult {
  merged: boolean;
  ms: number;
  batch: number;
  adapter: string;
}

export interface ParamsResult {
  rows: ParamRow[];
  lora: number;
  full: number;
  total: number;
}

/** Progress sent while a request runs. */
export type WorkerEvent =
  | { event: 'log'; message: string }
  | { event: 'step'; step: number; epoch: number; loss: number; accuracy?: number }
  | { event: 'eval'; step: number; accuracy: number; label: string }
  | { event: 'byomStep'; step: number; loss: number }
  | { event: 'adapters'; task: Task; adapters: AdapterInfo[]; active: string | null };

export type Response = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };
