// Loading a PEFT adapter into a model in two steps: plan (map modules to layers, check every shape,
// derive the tfjs-side config; nothing changes) and apply (copy the tensors into the wrapped layers).
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { alphaFor, loraConfig, rankFor, type LoraConfig } from '../config.js';
import { weightByName } from '../layer-weights.js';
import { AdapterFormatError, LoraConfigError, ShapeMismatchError } from '../errors/index.js';
import { requireLayerKind, type Layer } from '../layer-kind.js';
import { LoraLayer } from '../lora-layer.js';
import { layerInfos, walkLayers } from '../model-graph.js';
import { matchesSelector } from '../config/patterns.js';
import { selectTargets } from '../config/targets.js';
import type { PeftAdapter, PeftLoraModule } from './adapter.js';
import { mapPeftModules, modelModuleAliases, type PeftLoadOptions } from './module-map.js';
import { findPeftWeightLayout, paramToTfjs, peftShapeOf, type PeftParamLayout } from './weight-layouts.js';

/**
 * How a LoraModel's adapter was read from PEFT files (`loraModel.peftLoadReport(name)`): the config as
 * read, where each PEFT module went, and what was skipped. Not to be confused with `PeftAdapterSource`,
 * where an adapter is loaded from.
 */
export interface PeftLoadReport {
  /** adapter_config.json as read (what `savePeftAdapter` writes back). */
  readonly config: LoraConfig;
  /** Layer path → PEFT module path, for every module that was loaded. */
  readonly paths: ReadonlyMap<string, string>;
  /** PEFT module paths that matched no layer and were skipped (`strict: false` or a `null` in moduleMap). */
  readonly skipped: readonly string[];
}

interface WeightAssignment {
  layerPath: string;
  role: 'modules_to_save' | 'base_layer' | 'bias';
  values: { layout: PeftParamLayout; tensor: tf.Tensor }[];
}

/** A checked plan: the tfjs-side config and where each tensor goes. */
export interface PeftLoadPlan {
  readonly config: LoraConfig;
  readonly factors: readonly { layerPath: string; module: PeftLoraModule }[];
  readonly weights: readonly WeightAssignment[];
  readonly report: PeftLoadReport;
}

const show = (s: readonly number[]): string => `[${s.join(', ')}]`;
const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function unwrap(layer: Layer): Layer {
  return layer instanceof LoraLayer ? layer.layer : layer;
}

function checkFactors(layerPath: string, inner: Layer, m: PeftLoraModule): void {
  const kind = requireLayerKind(inner.getClassName(), layerPath);
  if (kind.peftNames.loraA !== m.peftNames.loraA || kind.peftNames.loraB !== m.peftNames.loraB) {
    throw new ShapeMismatchError(
      `Adapter module '${m.path}' holds ${m.peftNames.loraA}/${m.peftNames.loraB} (a PEFT ${m.kind} adapter), but layer '${layerPath}' is a ` +
        `${inner.getClassName()} whose LoRA uses ${kind.peftNames.loraA}/${kind.peftNames.loraB}. Map the module to a layer of the right kind (moduleMap).`,
      { layer: layerPath },
    );
  }
  const shapes = kind.factorShapes(inner, m.r);
  const expected = tf.tidy(() => ({
    loraA: kind.toPeft(inner, 'loraA', tf.zeros(shapes.loraA)).shape,
    loraB: kind.toPeft(inner, 'loraB', tf.zeros(shapes.loraB)).shape,
  }));
  const kernel = kind.kernel(inner).shape as number[];
  for (const factor of ['loraA', 'loraB'] as const) {
    const found = m[factor].shape;
    if (!tf.util.arraysEqual(found, expected[factor])) {
      throw new ShapeMismatchError(
        `Layer '${layerPath}' (${inner.getClassName()}, kernel ${show(kernel)}) needs ${m.peftNames[factor]} of shape ${show(expected[factor])} ` +
          `for r = ${m.r}, but the adapter's ${m.keys[factor]} is ${show(found)}. The adapter was trained for a model with other layer sizes; ` +
          'use a base model with the same architecture or map the module to the matching layer. Nothing was changed.',
        { layer: layerPath },
      );
    }
  }
  if (m.magnitude && m.magnitude.size !== kernel.at(-1)) {
    throw new ShapeMismatchError(
      `Layer '${layerPath}' has ${kernel.at(-1)} output units but the DoRA magnitude ${m.keys.magnitude} is ${show(m.magnitude.shape)}. Nothing was changed.`,
      { layer: layerPath },
    );
  }
}

function planWeights(layerPath: string, layer: Layer, w: PeftAdapter['moduleWeights'][number]): WeightAssignment {
  const inner = unwrap(layer);
  if (w.role === 'modules_to_save' && layer instanceof LoraLayer) {
    throw new LoraConfigError(
      `Adapter module '${w.path}' is in modules_to_save but its layer '${layerPath}' is also adapted by LoRA; PEFT never does both. Check moduleMap.`,
      { field: 'modulesToSave' },
    );
  }
  const layout = findPeftWeightLayout(inner.getClassName());
  if (!layout) {
    throw new LoraConfigError(
      `Adapter module '${w.path}' saves whole weights (${w.role}) for layer '${layerPath}' of class ${inner.getClassName()}, whose PyTorch layout is unknown. ` +
        'Register it with registerPeftWeightLayout({layerClasses, params}).',
      { field: 'modulesToSave' },
    );
  }
  const values = Object.entries(w.params).map(([param, tensor]) => {
    const pl = layout.params[param];
    const variable = pl ? weightByName(inner, pl.weight) : null;
    if (!pl || !variable) {
      throw new ShapeMismatchError(
        `Adapter tensor ${w.keys[param]} is the PyTorch parameter '${param}', but layer '${layerPath}' (${inner.getClassName()}) has ` +
          `${pl ? `no '${pl.weight}' weight` : `only ${Object.keys(layout.params).join(', ')}`}. Map the module to a matching layer. Nothing was changed.`,
        { layer: layerPath },
      );
    }
    const expected = peftShapeOf(pl, variable.shape as number[]);
    if (!tf.util.arraysEqual(expected, tensor.shape)) {
      throw new ShapeMismatchError(
        `Layer '${layerPath}' weight '${pl.weight}' ${show(variable.shape as number[])} needs PyTorch '${param}' of shape ${show(expected)}, ` +
          `but the adapter's ${w.keys[param]} is ${show(tensor.shape)}. Nothing was changed.`,
        { layer: layerPath },
      );
    }
    return { layout: pl, tensor };
  });
  return { layerPath, role: w.role, values };
}

function sameSelection(
  model: LayersModel,
  config: LoraConfig,
  factors: PeftLoadPlan['factors'],
  saved: readonly string[],
): boolean {
  try {
    const selected = selectTargets(config, layerInfos(model)).map((l) => l.path);
    const targets = factors.map((f) => f.layerPath);
    const selector = config.modulesToSave;
    const savedNow =
      !selector || selector.length === 0
        ? []
        : walkLayers(model)
            .filter(({ path, layer }) => !(layer instanceof LoraLayer) && matchesSelector(selector, path))
            .map((l) => l.path);
    return (
      selected.length === targets.length &&
      selected.every((p) => targets.includes(p)) &&
      savedNow.length === saved.length &&
      savedNow.every((p) => saved.includes(p)) &&
      factors.every(
        (f) => rankFor(config, f.layerPath) === f.module.r && alphaFor(config, f.layerPath) === f.module.alpha,
      )
    );
  } catch {
    return false;
  }
}

/**
 * The config the model runs the adapter with: the file's own config when it selects exactly the mapped
 * layers with the same ranks and alphas, else one naming those layers explicitly. PiSSA/OLoRA initialisation
 * is turned off (the factors are loaded, W must stay as it is).
 */
function modelConfig(
  model: LayersModel,
  original: LoraConfig,
  factors: PeftLoadPlan['factors'],
  saved: readonly string[],
): LoraConfig {
  const init =
    typeof original.initLoraWeights === 'string' && original.initLoraWeights !== 'gaussian'
      ? true
      : original.initLoraWeights;
  if (sameSelection(model, original, factors, saved))
    return init === original.initLoraWeights ? original : loraConfig({ ...original, initLoraWeights: init });
  const longestFirst = [...factors].sort((a, b) => b.layerPath.length - a.layerPath.length);
  return loraConfig({
    ...original,
    initLoraWeights: init,
    targetModules: `(?:${factors.map((f) => escapeRegex(f.layerPath)).join('|')})`,
    excludeModules: null,
    layersToTransform: null,
    layersPattern: null,
    rankPattern: Object.fromEntries(longestFirst.map((f) => [escapeRegex(f.layerPath), f.module.r])),
    alphaPattern: Object.fromEntries(longestFirst.map((f) => [escapeRegex(f.layerPath), f.module.alpha])),
    modulesToSave: saved.length > 0 ? saved : null,
  });
}

/**
 * Maps an adapter's modules onto `model`'s layers (see {@link mapPeftModules}; the model's own module
 * aliases, `userDefinedMetadata.peftModuleAliases`, are used after the default rule) and checks every tensor's
 * shape against its layer, before anything is created or written. Throws LoraConfigError (mapping) or
 * ShapeMismatchError (naming the layer and both shapes).
 */
export function planPeftLoad(model: LayersModel, adapter: PeftAdapter, options: PeftLoadOptions = {}): PeftLoadPlan {
  const refs = new Map(walkLayers(model).map((l) => [l.path, l.layer]));
  const peftPaths = [...new Set([...adapter.modules.map((m) => m.path), ...adapter.moduleWeights.map((w) => w.path)])];
  const aliases = modelModuleAliases(model.getUserDefinedMetadata());
  const mapping = mapPeftModules(peftPaths, [...refs.keys()], options, aliases);
  const paths = new Map<string, string>();
  const factors: { layerPath: string; module: PeftLoraModule }[] = [];
  for (const module of adapter.modules) {
    const layerPath = mapping.layers.get(module.path);
    if (layerPath === undefined) continue;
    checkFactors(layerPath, unwrap(refs.get(layerPath)!), module);
    factors.push({ layerPath, module });
    paths.set(layerPath, module.path);
  }
  if (factors.length === 0) {
    throw new LoraConfigError(
      `None of the adapter's ${adapter.modules.length} LoRA modules was mapped to a layer (skipped: ${mapping.skipped.slice(0, 5).join(', ')}). ` +
        'Pass moduleMap to map PEFT module paths to layer paths.',
      { field: 'moduleMap' },
    );
  }
  const weights: WeightAssignment[] = [];
  for (const w of adapter.moduleWeights) {
    const layerPath = mapping.layers.get(w.path);
    if (layerPath === undefined) continue;
    if (w.role === 'base_layer' && !factors.some((f) => f.layerPath === layerPath)) {
      throw new AdapterFormatError(
        `Adapter tensors ${Object.values(w.keys).join(', ')} belong to the base layer of '${w.path}', which has no LoRA factors in the file.`,
        { tensor: Object.values(w.keys)[0] },
      );
    }
    weights.push(planWeights(layerPath, refs.get(layerPath)!, w));
    paths.set(layerPath, w.path);
  }
  const saved = weights.filter((w) => w.role === 'modules_to_save').map((w) => w.layerPath);
  const config = modelConfig(model, adapter.config, factors, saved);
  return { config, factors, weights, report: { config: adapter.config, paths, skipped: mapping.skipped } };
}

/**
 * A tensor with its own data. Tensors read from a file may be zero-copy views of its bytes (and tf.clone
 * shares data): a variable holding one would keep the whole file alive and change if the caller reuses
 * the buffer. The copy is made on the device by a kernel (×1, exact for every float including -0 and NaN;
 * bool by x ∧ x), not through a synchronous read, so loading works on WebGPU.
 */
function ownedCopy(t: tf.Tensor): tf.Tensor {
  return tf.tidy(() => (t.dtype === 'bool' ? tf.logicalAnd(t, t) : tf.mul(t, tf.scalar(1, t.dtype))));
}

/** A PyTorch parameter in tfjs layout, with its own data. */
function toTfjs(layout: PeftParamLayout, t: tf.Tensor): tf.Tensor {
  return layout.toTfjs ? paramToTfjs(layout, t) : ownedCopy(t);
}

/** What {@link applyPeftPlan} writes into: a LoraModel (named by its members, so this file needs no import of it). */
export interface PeftPlanTarget {
  /** The model with LoRA layers. */
  readonly model: LayersModel;
  /** Every LoRA layer with its dotted path. */
  loraLayers(): { path: string; layer: LoraLayer }[];
  /** Copies of a modules_to_save layer's weights as adapter `name` has them; with `replace`, set first. */
  savedModuleWeights(name: string, path: string, replace?: tf.Tensor[]): tf.Tensor[];
  /** Records how adapter `name` was read. */
  recordPeftLoad(name: string, report: PeftLoadReport): void;
}

/** Copies a planned adapter's tensors into `lm`'s adapter `name` (created from `plan.config`). */
export function applyPeftPlan(lm: PeftPlanTarget, name: string, plan: PeftLoadPlan): void {
  const wrapped = new Map(lm.loraLayers().map((l) => [l.path, l.layer]));
  for (const { layerPath, module } of plan.factors) {
    const layer = wrapped.get(layerPath)!;
    const w = layer.weightsOf(name);
    tf.tidy(() => {
      w.loraA.write(layer.kind.fromPeft(layer.layer, 'loraA', module.loraA));
      w.loraB.write(layer.kind.fromPeft(layer.layer, 'loraB', module.loraB));
      if (w.magnitude && module.magnitude && layer.kind.dora)
        w.magnitude.write(ownedCopy(layer.kind.dora.magnitudeFromPeft(layer.layer, module.magnitude)));
    });
  }
  const all = new Map(walkLayers(lm.model).map((l) => [l.path, unwrap(l.layer)]));
  for (const w of plan.weights) {
    const inner = all.get(w.layerPath)!;
    if (w.role === 'modules_to_save') {
      const current = lm.savedModuleWeights(name, w.layerPath);
      const next = tf.tidy(() =>
        inner.weights.map((v, i) => {
          const value = w.values.find((x) => weightByName(inner, x.layout.weight) === v);
          return value ? toTfjs(value.layout, value.tensor) : tf.clone(current[i]!);
        }),
      );
      tf.dispose(lm.savedModuleWeights(name, w.layerPath, next));
      tf.dispose([...current, ...next]);
    } else {
      for (const value of w.values) {
        tf.tidy(() => {
          weightByName(inner, value.layout.weight)!.write(toTfjs(value.layout, value.tensor));
        });
      }
    }
  }
  lm.recordPeftLoad(name, plan.report);
}

/** @deprecated use {@link PeftLoadReport} (`PeftAdapterSource` is where an adapter is loaded from); removed in 0.3. */
export type PeftSource = PeftLoadReport;
