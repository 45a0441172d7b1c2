// A PEFT LoRA adapter held in memory: its config and tensors exactly as PEFT saved them (PyTorch layout),
// with the tensors grouped into modules.
import type * as tf from '@tensorflow/tfjs-core';
import { fromPeftJson, alphaFor, rankFor, scalingFor, type LoraConfig } from '../config.js';
import { AdapterFormatError } from '../errors/index.js';
import '../builtin-layer-kinds.js';
import { listLayerKinds } from '../layer-kind.js';
import { groupPeftKeys, pairOf } from './keys.js';

const sameShape = (a: readonly number[], b: readonly number[]): boolean =>
  a.length === b.length && a.every((v, i) => v === b[i]);

/**
 * PEFT's shape of a DoRA magnitude for a module whose lora_A has rank `rankA` and `out` output units:
 * [out] for Linear/Embedding (lora_A of rank 2), [1, out, 1, ...] for ConvNd (PEFT's `DoraConvNdLayer`
 * keeps the weight norm's broadcast shape).
 */
export function peftMagnitudeShape(rankA: number, out: number): number[] {
  return rankA > 2 ? [1, out, ...new Array<number>(rankA - 2).fill(1)] : [out];
}

/** One LoRA-adapted module of a PEFT adapter, tensors in PyTorch layout. */
export interface PeftLoraModule {
  /** The module's path in the PyTorch model (`distilbert.transformer.layer.0.attention.q_lin`). */
  readonly path: string;
  /** 'linear', 'conv1d', 'conv2d', 'conv3d', 'embedding', or the name of the layer kind that uses these tensor names. */
  readonly kind: string;
  /** PEFT's names of the two factors (`lora_A`/`lora_B`, `lora_embedding_A`/`lora_embedding_B`, ...). */
  readonly peftNames: { readonly loraA: string; readonly loraB: string };
  /** The keys of its tensors in the file. */
  readonly keys: { readonly loraA: string; readonly loraB: string; readonly magnitude?: string };
  /** PEFT's A ([r, in, ...] for Linear/Conv, [r, num_embeddings] for Embedding). */
  readonly loraA: tf.Tensor;
  /** PEFT's B ([out, r, ...] for Linear/Conv, [embedding_dim, r] for Embedding). */
  readonly loraB: tf.Tensor;
  /**
   * DoRA magnitude in PEFT's layout, when the adapter uses DoRA: [out] for Linear and Embedding,
   * [1, out, 1, 1] for Conv2d, [1, out, 1] for Conv1d ([out] is also accepted for convolutions).
   */
  readonly magnitude?: tf.Tensor;
  /** Rank (rows of A). */
  readonly r: number;
  /** Alpha for this module (`lora_alpha` or its `alpha_pattern` entry). */
  readonly alpha: number;
  /** alpha/r, or alpha/√r with use_rslora. */
  readonly scaling: number;
}

/** Whole-module tensors saved beside the LoRA factors. */
export interface PeftModuleWeights {
  /** The module's path in the PyTorch model. */
  readonly path: string;
  /** modules_to_save (a trained copy), base_layer (saved base weights) or bias (bias 'all' / 'lora_only'). */
  readonly role: 'modules_to_save' | 'base_layer' | 'bias';
  /** PyTorch parameter name (`weight`, `bias`, ...) → tensor. */
  readonly params: Readonly<Record<string, tf.Tensor>>;
  /** PyTorch parameter name → key in the file. */
  readonly keys: Readonly<Record<string, string>>;
}

/** A PEFT LoRA adapter: adapter_config.json and adapter_model.safetensors, as PEFT saved them. */
export interface PeftAdapter {
  /** adapter_config.json, validated (`toPeftJson(config)` gives the file's fields back). */
  readonly config: LoraConfig;
  /** Every tensor of the file by its key, in PyTorch layout. */
  readonly tensors: Readonly<Record<string, tf.Tensor>>;
  /** The file's `__metadata__` (PEFT writes `{format: 'pt'}`), or null. */
  readonly metadata: Readonly<Record<string, string>> | null;
  /** The LoRA-adapted modules, in file order. */
  readonly modules: readonly PeftLoraModule[];
  /** modules_to_save, base_layer and bias tensors, grouped by module. */
  readonly moduleWeights: readonly PeftModuleWeights[];
  /** Disposes every tensor. */
  dispose(): void;
}

/** What {@link peftAdapter} accepts: a config (LoraConfig, adapter_config.json object or text) and PEFT-named tensors. */
export interface PeftAdapterInput {
  config: LoraConfig | Record<string, unknown> | string;
  tensors: Readonly<Record<string, tf.Tensor>>;
  metadata?: Readonly<Record<string, string>> | null;
}

const BRAND = Symbol.for('tfjs-lora.peft-adapter');

/** True for an adapter built by {@link peftAdapter} or `loadPeftAdapter`. */
export function isPeftAdapter(x: unknown): x is PeftAdapter {
  return typeof x === 'object' && x !== null && (x as Record<symbol, unknown>)[BRAND] === true;
}

/** True for anything `applyLora` treats as an adapter rather than a config (it has `tensors`). */
export function isPeftAdapterInput(x: unknown): x is PeftAdapterInput | PeftAdapter {
  return typeof x === 'object' && x !== null && 'tensors' in x && 'config' in x;
}

function kindOf(peftName: string, loraA: tf.Tensor): string {
  if (peftName === 'lora_embedding_A') return 'embedding';
  if (peftName === 'lora_A') return ['linear', 'conv1d', 'conv2d', 'conv3d'][loraA.rank - 2] ?? `rank-${loraA.rank}`;
  return listLayerKinds().find((a) => a.peftNames.loraA === peftName)?.name ?? peftName;
}

function isConfig(x: unknown): x is LoraConfig {
  return typeof x === 'object' && x !== null && 'loraAlpha' in x && 'extra' in x;
}

function buildModule(
  path: string,
  g: { loraA?: [string, string]; loraB?: [string, string]; magnitude?: string },
  input: PeftAdapterInput,
  config: LoraConfig,
): PeftLoraModule {
  const t = input.tensors;
  const some = g.loraA?.[0] ?? g.loraB?.[0] ?? g.magnitude!;
  if (!g.loraA || !g.loraB) {
    const missing = !g.loraA ? 'A' : 'B';
    const names = pairOf((g.loraA ?? g.loraB)?.[1] ?? 'lora_A') ?? { loraA: 'lora_A', loraB: 'lora_B' };
    throw new AdapterFormatError(
      `Adapter module '${path}' has ${some} but no ${missing === 'A' ? names.loraA : names.loraB} tensor; every LoRA module needs both factors. ` +
        'The file is incomplete; save the adapter again.',
      { tensor: some },
    );
  }
  const [keyA, nameA] = g.loraA;
  const [keyB, nameB] = g.loraB;
  const pair = pairOf(nameA);
  if (!pair || pair.loraB !== nameB) {
    throw new AdapterFormatError(
      `Adapter module '${path}' mixes factor names ${nameA} and ${nameB}; expected a matching pair such as lora_A/lora_B.`,
      { tensor: keyB },
    );
  }
  const loraA = t[keyA]!;
  const loraB = t[keyB]!;
  const r = loraA.shape[0] ?? 0;
  if (loraA.rank < 2 || loraB.rank < 2 || loraB.shape[1] !== r || r === 0) {
    throw new AdapterFormatError(
      `Adapter module '${path}': expected ${nameA} [r, ...] and ${nameB} [out, r, ...] with the same r ≥ 1; found [${loraA.shape}] and [${loraB.shape}].`,
      { tensor: keyB },
    );
  }
  const configR = rankFor(config, path);
  if (configR !== r) {
    throw new AdapterFormatError(
      `Adapter module '${path}': adapter_config.json gives r = ${configR} (r / rank_pattern) but ${keyA} has ${r} rows. ` +
        'The config does not belong to these weights; use the adapter_config.json saved with them.',
      { tensor: keyA },
    );
  }
  const magnitude = g.magnitude === undefined ? undefined : t[g.magnitude];
  if (config.useDora !== (magnitude !== undefined)) {
    throw new AdapterFormatError(
      config.useDora
        ? `Adapter module '${path}': use_dora is true but the file has no ${path}.lora_magnitude_vector. Save the adapter again.`
        : `Adapter module '${path}': the file has a DoRA magnitude (${g.magnitude}) but use_dora is false in adapter_config.json.`,
      { tensor: g.magnitude ?? keyA },
    );
  }
  const magnitudeShape = peftMagnitudeShape(loraA.rank, loraB.shape[0]!);
  if (magnitude && !sameShape(magnitude.shape, magnitudeShape) && !sameShape(magnitude.shape, [loraB.shape[0]!])) {
    throw new AdapterFormatError(
      `Adapter module '${path}': expected the DoRA magnitude to be [${magnitudeShape}] (PEFT's layout for this module); ` +
        `found [${magnitude.shape}]. The file does not hold a PEFT DoRA adapter for this module; save it again with PEFT.`,
      { tensor: g.magnitude },
    );
  }
  const alpha = alphaFor(config, path);
  return {
    path,
    kind: kindOf(nameA, loraA),
    peftNames: { loraA: nameA, loraB: nameB },
    keys: g.magnitude ? { loraA: keyA, loraB: keyB, magnitude: g.magnitude } : { loraA: keyA, loraB: keyB },
    loraA,
    loraB,
    ...(magnitude ? { magnitude } : {}),
    r,
    alpha,
    scaling: scalingFor(r, alpha, config.useRslora),
  };
}

/**
 * Builds a {@link PeftAdapter} from a config and PEFT-named tensors (PyTorch layout), checking that every
 * key is one PEFT writes, that each module has both factors of matching rank, that the ranks agree with
 * `r`/`rank_pattern`, and that DoRA magnitudes are present exactly when `use_dora` is set. The adapter
 * takes the tensors as they are: its `dispose()` disposes them.
 */
export function peftAdapter(input: PeftAdapterInput): PeftAdapter {
  if (isPeftAdapter(input)) return input;
  if (typeof input.tensors !== 'object' || input.tensors === null) {
    throw new AdapterFormatError(
      `A PEFT adapter needs tensors keyed as PEFT saves them; found ${typeof input.tensors}.`,
    );
  }
  const config = isConfig(input.config) ? input.config : fromPeftJson(input.config);
  const keys = Object.keys(input.tensors);
  if (keys.length === 0) {
    throw new AdapterFormatError(
      `The adapter has no tensors; expected LoRA factors such as base_model.model.<module>.lora_A.weight.`,
    );
  }
  const grouped = groupPeftKeys(input.tensors, config);
  const modules = [...grouped.factors].map(([path, g]) => buildModule(path, g, input, config));
  if (modules.length === 0) {
    throw new AdapterFormatError(
      `The adapter has no LoRA modules (only ${keys.slice(0, 5).join(', ')}); expected tensors named <module>.lora_A.weight / lora_B.weight.`,
    );
  }
  const moduleWeights: PeftModuleWeights[] = [...grouped.weights.values()].map((w) => ({
    path: w.path,
    role: w.role,
    params: Object.fromEntries([...w.params].map(([p, k]) => [p, input.tensors[k]!])),
    keys: Object.fromEntries(w.params),
  }));
  const adapter: PeftAdapter = {
    config,
    tensors: input.tensors,
    metadata: input.metadata ?? null,
    modules,
    moduleWeights,
    dispose: () => {
      for (const t of Object.values(input.tensors)) if (!t.isDisposed) t.dispose();
    },
  };
  Object.defineProperty(adapter, BRAND, { value: true });
  return Object.freeze(adapter);
}
