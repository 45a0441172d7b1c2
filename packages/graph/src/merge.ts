// Folding adapters into a GraphModel's weights: in place (merge/unmerge swap weight-map entries, exactly
// reversible) or into a new plain GraphModel (mergeAndUnload, via unload.ts), and the inputs/config
// checks LoraGraphModel shares.
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter';
import { LoraConfigError, ShapeMismatchError, type LoraConfig } from '@tfjs-lora/core';
import { deltaWeight } from './factors.js';
import { graphView, setWeightMap } from './graph-nodes.js';
import type { GraphTarget } from './targets.js';
import { mergedArtifacts } from './unload.js';

/** W + Σ scaling·ΔW for every weight the given adapters' factors update (by weight name; new tensors). */
export function mergedWeights(
  model: GraphModel,
  targets: ReadonlyMap<string, GraphTarget>,
  adapters: Iterable<ReadonlyMap<string, { loraA: tf.Tensor; loraB: tf.Tensor; scaling: number }>>,
): tf.NamedTensorMap {
  return tf.tidy(() => {
    const sums = new Map<string, tf.Tensor>();
    for (const factors of adapters)
      for (const [path, f] of factors) {
        const t = targets.get(path)!;
        const delta = tf.mul(deltaWeight(t, f.loraA, f.loraB), f.scaling);
        sums.set(t.weight, tf.add(sums.get(t.weight) ?? model.weights[t.weight]![0]!, delta));
      }
    return Object.fromEntries(sums);
  });
}

/** Puts `replacements` into the model's weight map; returns the tensors they replaced. */
export function swapWeights(model: GraphModel, replacements: tf.NamedTensorMap): Map<string, tf.Tensor> {
  const weights = { ...model.weights };
  const originals = new Map<string, tf.Tensor>();
  for (const [name, w] of Object.entries(replacements)) {
    originals.set(name, weights[name]![0]!);
    weights[name] = [w];
  }
  setWeightMap(model, weights);
  return originals;
}

/** Undoes {@link swapWeights}: the originals back, the replacements disposed. */
export function restoreWeights(model: GraphModel, originals: ReadonlyMap<string, tf.Tensor>): void {
  const weights = { ...model.weights };
  for (const [name, original] of originals) {
    weights[name]![0]!.dispose();
    weights[name] = [original];
  }
  setWeightMap(model, weights);
}

/** A new plain GraphModel: `model`'s artifacts with the weights in `replaced` stored as float32. */
export async function unloadedModel(model: GraphModel, replaced: ReadonlyMap<string, tf.Tensor>): Promise<GraphModel> {
  return loadGraphModel(tf.io.fromMemory(await mergedArtifacts(graphView(model).artifacts, replaced)));
}

/** Inputs as a map by input node name (a tensor, or a list in `model.inputNodes` order). */
export function namedInputs(model: GraphModel, inputs: tf.Tensor | tf.Tensor[] | tf.NamedTensorMap): tf.NamedTensorMap {
  if (!(inputs instanceof tf.Tensor) && !Array.isArray(inputs)) return inputs;
  const list = Array.isArray(inputs) ? inputs : [inputs];
  const names = model.inputNodes;
  if (list.length !== names.length)
    throw new ShapeMismatchError(
      `Expected ${names.length} input tensor(s) (${names.join(', ')}); found ${list.length}. Pass them in that order or as a map by name.`,
    );
  return Object.fromEntries(names.map((n, i) => [n, list[i]!]));
}

/** Config features GraphModels do not implement yet, refused with what to do instead. */
export function refuseUnsupported(config: LoraConfig): void {
  const no = (field: string, why: string): never => {
    throw new LoraConfigError(
      `LoraConfig.${field} ${why} is not supported on GraphModels yet; ${field === 'initLoraWeights' ? "use true, false or 'gaussian'" : 'leave it at its default'}.`,
      { field },
    );
  };
  if (config.useDora) no('useDora', 'true');
  if (config.bias !== 'none') no('bias', `'${config.bias}'`);
  if (config.modulesToSave && config.modulesToSave.length > 0)
    no('modulesToSave', JSON.stringify(config.modulesToSave));
  if (typeof config.initLoraWeights === 'string' && config.initLoraWeights !== 'gaussian')
    no('initLoraWeights', `'${config.initLoraWeights}'`);
}
