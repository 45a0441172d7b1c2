// A Hugging Face state dict → the weights of an HfTextGraph's layers (PyTorch layouts converted).
import * as tf from '@tensorflow/tfjs-core';
import { ModelFormatError } from '@tfjs-lora/core';
import type { HfTextGraph } from './architectures.js';

/** The PyTorch parameter names of a tfjs weight (`kernel` → `weight`, LayerNorm `gamma` → `weight` or legacy `gamma`). */
const PARAM_NAMES: Record<string, readonly string[]> = {
  kernel: ['weight'],
  bias: ['bias'],
  embeddings: ['weight'],
  gamma: ['weight', 'gamma'],
  beta: ['bias', 'beta'],
};

/** The state-dict keys to try for module `path`: as named, then without or with the family's trunk prefix. */
function candidates(graph: HfTextGraph, path: string): string[] {
  const fp = graph.familyPrefix;
  return path.startsWith(fp) ? [path, path.slice(fp.length)] : [path, fp + path];
}

/** What {@link loadHfWeights} did: the heads left at their random initialisation. */
export interface HfWeightsReport {
  /** Head layers the checkpoint lacks (newly initialised, as transformers reports them). */
  readonly newlyInitialized: readonly string[];
  /** Checkpoint keys no layer used (another head's weights, buffers). */
  readonly unused: readonly string[];
}

/**
 * Writes the checkpoint's tensors into the graph's layers: nn.Linear weights transposed to Dense kernels
 * ([out, in] → [in, out]); GPT-2's Conv1D weights, embeddings and LayerNorm parameters as they are. A tied
 * `lm_head` takes the word-embedding table transposed. Throws a {@link ModelFormatError} naming a missing
 * trunk weight or a shape that does not fit.
 */
export function loadHfWeights(
  graph: HfTextGraph,
  tensors: ReadonlyMap<string, tf.Tensor>,
  tieWordEmbeddings: boolean,
): HfWeightsReport {
  const used = new Set<string>();
  const newly = new Set<string>();
  const lookup = (path: string, param: string): string | undefined =>
    candidates(graph, path)
      .flatMap((p) => (PARAM_NAMES[param] ?? [param]).map((n) => `${p}.${n}`))
      .find((k) => tensors.has(k));
  for (const layer of graph.model.layers) {
    for (const variable of layer.weights) {
      const param = variable.originalName.slice(variable.originalName.lastIndexOf('/') + 1);
      let key = lookup(layer.name, param);
      let transpose = layer.getClassName() === 'Dense' && param === 'kernel' && !graph.conv1d.has(layer.name);
      if (layer.name === 'lm_head' && (key === undefined || tieWordEmbeddings)) {
        key = lookup(`${graph.prefix}wte`, 'embeddings');
        transpose = true;
      }
      if (key === undefined) {
        if (graph.heads.has(layer.name)) {
          newly.add(layer.name);
          continue;
        }
        throw new ModelFormatError(
          `The checkpoint has no weight for '${layer.name}.${PARAM_NAMES[param]?.[0] ?? param}' (tried ${candidates(graph, layer.name).join(', ')}). ` +
            `Expected a ${graph.model.name} checkpoint as save_pretrained writes it; pass { architecture } when config.json names another model.`,
        );
      }
      const source = tensors.get(key)!;
      const shape = variable.shape as number[];
      const expected = transpose ? [...shape].reverse() : shape;
      if (!tf.util.arraysEqual(source.shape, expected)) {
        throw new ModelFormatError(
          `Checkpoint tensor '${key}' is [${source.shape.join(', ')}] but layer '${layer.name}' needs [${expected.join(', ')}] ` +
            'for the sizes in config.json. Check that config.json belongs to these weights.',
        );
      }
      used.add(key);
      if (transpose)
        tf.tidy(() => {
          variable.write(tf.transpose(source));
        });
      else variable.write(source); // shares the data (the checkpoint releases its reference)
    }
  }
  return {
    newlyInitialized: [...newly],
    unused: [...tensors.keys()].filter((k) => !used.has(k)),
  };
}
