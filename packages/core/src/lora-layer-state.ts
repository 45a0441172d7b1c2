import type { LayerArgs } from '@tensorflow/tfjs-layers/dist/engine/topology.js';
import * as tf from '@tensorflow/tfjs-core';
import { LayerVariable } from '@tensorflow/tfjs-layers';
import { LoraConfigError, LoraError } from './errors/index.js';
import { scalingFor } from './config.js';
import { MAGNITUDE_VARIABLE } from './dora-variant.js';
import type { AdapterWeights, Layer, LayerKind, LoraAdapterSpec, LoraVariant } from './layer-kind-types.js';

export type { AdapterWeights, LoraAdapterSpec } from './layer-kind-types.js';

/** Constructor arguments of {@link LoraLayer}. */
export interface LoraLayerArgs extends LayerArgs {
  /** The base layer being adapted. */
  layer: Layer;
  /** Adapters by name. */
  adapters?: Record<string, LoraAdapterSpec>;
  /** Adapters that take part in the forward pass (their sum). */
  activeAdapters?: string[];
  /** When true the layer computes the base output only. */
  disabled?: boolean;
  /** Adapters whose update has been merged into the base kernel. */
  merged?: string[];
  /** Whether the base bias trains (PEFT's bias 'all' / 'lora_only'). */
  trainBias?: boolean;
}

/** The LoRA part of a LoraLayer's serialised config. */
export type LoraLayerState = Pick<LoraLayerArgs, 'adapters' | 'activeAdapters' | 'disabled' | 'merged' | 'trainBias'>;

/**
 * tfjs-layers rewrites every string in a saved config (snake_case on save, camelCase on load), which
 * would corrupt adapter names such as 'style_a'. The LoRA state is therefore stored as hex-encoded JSON,
 * which both rewrites leave unchanged.
 */
export function encodeLoraState(state: LoraLayerState): string {
  return Array.from(new TextEncoder().encode(JSON.stringify(state)), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Decodes the `lora` field written by {@link encodeLoraState}. */
export function decodeState(hex: string): LoraLayerState {
  if (!/^(?:[0-9a-f]{2})*$/.test(hex)) {
    throw new LoraError(
      `A saved LoraLayer config has a corrupt 'lora' field (expected hex-encoded JSON). Re-save the model.`,
    );
  }
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return JSON.parse(new TextDecoder().decode(bytes)) as LoraLayerState;
}

const ADAPTER_NAME = /^[A-Za-z0-9][-A-Za-z0-9_.]*$/;

/** Throws unless `name` can be an adapter name (it becomes part of weight names). */
export function checkAdapterName(name: string): void {
  if (typeof name !== 'string' || !ADAPTER_NAME.test(name) || name === '__base__') {
    throw new LoraConfigError(
      `Adapter name ${JSON.stringify(name)} is not allowed: expected letters, digits, '-', '_' or '.', ` +
        `starting with a letter or digit, and not '__base__'. Choose another name.`,
      { field: 'adapterName' },
    );
  }
}

/** Every variable of one adapter (A, B, and the variant's extra ones such as DoRA's magnitude). */
export function variablesOf(w: AdapterWeights): LayerVariable[] {
  return w.magnitude ? [w.loraA, w.loraB, w.magnitude] : [w.loraA, w.loraB];
}

/**
 * A zero-initialised adapter variable named `<layerName>/<local>` whether or not a name scope is open
 * (tfjs-layers' build runs inside one).
 */
function makeAdapterVariable(layerName: string, local: string, shape: number[]): LayerVariable {
  const want = `${layerName}/${local}`;
  const init = tf.zeros(shape);
  try {
    const v = new LayerVariable(init, 'float32', local, true);
    if (v.originalName === want || v.originalName.endsWith(`/${want}`)) return v;
    v.dispose();
    return new LayerVariable(init, 'float32', want, true);
  } finally {
    init.dispose();
  }
}

/** Rebuilds the layer a saved LoraLayer config wraps (its class must be registered with tfjs serialization). */
function rebuildWrappedLayer(config: tf.serialization.ConfigDict): Layer {
  const inner = config['layer'] as { className: string; config: tf.serialization.ConfigDict };
  const entry = tf.serialization.SerializationMap.getMap().classNameMap[inner.className];
  if (!entry) {
    throw new LoraError(
      `Cannot rebuild the layer inside LoraLayer '${String(config['name'])}': class '${inner.className}' is not registered. Import the package that defines it.`,
    );
  }
  const [innerCls, fromConfig] = entry;
  return fromConfig(innerCls, { ...inner.config }) as unknown as Layer;
}

/** Creates one adapter's variables in a LoRA layer named `layerName` (zero factors; the variant's extras). */
export function createAdapterWeights(
  layerName: string,
  layer: Layer,
  kind: LayerKind,
  variant: LoraVariant,
  adapter: string,
  spec: LoraAdapterSpec,
): AdapterWeights {
  const shapes = kind.factorShapes(layer, spec.r);
  const make = (local: string, shape: number[]) => makeAdapterVariable(layerName, `${local}.${adapter}`, shape);
  const weights: AdapterWeights = {
    spec,
    scaling: scalingFor(spec.r, spec.loraAlpha, spec.useRslora),
    loraA: make('lora_A', shapes.loraA),
    loraB: make('lora_B', shapes.loraB),
  };
  for (const [local, shape] of Object.entries(variant.extraVariables(layer, kind))) {
    if (local === MAGNITUDE_VARIABLE) weights.magnitude = make(local, shape);
  }
  return weights;
}

/** The constructor arguments of a LoraLayer from its saved config (the wrapped layer rebuilt, the state decoded). */
export function argsFromConfig(config: tf.serialization.ConfigDict): LoraLayerArgs {
  const layer = rebuildWrappedLayer(config);
  const rest = { ...config };
  delete rest['layer'];
  delete rest['lora'];
  const state = typeof config['lora'] === 'string' ? decodeState(config['lora']) : {};
  return { ...(rest as unknown as LoraLayerArgs), ...state, layer };
}
