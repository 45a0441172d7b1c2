// A Hugging Face ViT or ResNet state dict → the weights of the tfjs graph's layers (PyTorch layouts converted).
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { ModelFormatError } from '@tfjs-lora/core';

/** What the loader needs to know of the architecture. */
export interface TrunkNames {
  /** The architecture (for messages). */
  readonly architecture: string;
  /** Module-path prefix of the trunk in this architecture (`'vit.'`, `'resnet.'`, `''` for a base model). */
  readonly prefix: string;
}

/** The PyTorch parameter names of a tfjs weight. */
const PARAM_NAMES: Record<string, string> = {
  kernel: 'weight',
  bias: 'bias',
  gamma: 'weight',
  beta: 'bias',
  moving_mean: 'running_mean',
  moving_variance: 'running_var',
};

/** PyTorch → tfjs layout: Linear [out, in] → [in, out]; Conv2d [out, in, kh, kw] → [kh, kw, in, out]. */
function permutation(className: string, param: string): number[] | null {
  if (param !== 'kernel') return null;
  if (className === 'Dense') return [1, 0];
  if (className === 'Conv2D') return [2, 3, 1, 0];
  return null;
}

/** What {@link loadHfWeights} did. */
export interface HfWeightsReport {
  /** Head layers the checkpoint lacks (newly initialised, as transformers reports them). */
  readonly newlyInitialized: readonly string[];
  /** Checkpoint keys no layer used. */
  readonly unused: readonly string[];
}

/**
 * Writes the checkpoint's tensors into `model`'s weights. Keys are tried as the layer's module path, then
 * with the trunk prefix (`vit.`, `resnet.`) removed or added, so a ViTModel checkpoint fills a
 * ViTForImageClassification's trunk. Heads (`classifier`, `classifier.1`, `pooler.dense`) missing from the checkpoint, or
 * listed in `freshHeads`, keep their random initialisation. Throws a {@link ModelFormatError} naming a
 * missing trunk weight or a shape that does not fit.
 */
export function loadHfWeights(
  model: tfl.LayersModel,
  spec: TrunkNames,
  tensors: ReadonlyMap<string, tf.Tensor>,
  freshHeads: ReadonlySet<string> = new Set(),
): HfWeightsReport {
  const heads = new Set(['classifier', 'classifier.1', 'pooler.dense']);
  const used = new Set<string>();
  const newly = new Set<string>();
  for (const layer of model.layers) {
    for (const variable of layer.weights) {
      const param = variable.originalName.slice(variable.originalName.lastIndexOf('/') + 1);
      const name = PARAM_NAMES[param] ?? param;
      const paths = [
        layer.name,
        spec.prefix === ''
          ? `vit.${layer.name}`
          : layer.name.startsWith(spec.prefix)
            ? layer.name.slice(spec.prefix.length)
            : layer.name,
      ];
      const key = freshHeads.has(layer.name) ? undefined : paths.map((p) => `${p}.${name}`).find((k) => tensors.has(k));
      if (key === undefined) {
        if (heads.has(layer.name)) {
          newly.add(layer.name);
          continue;
        }
        throw new ModelFormatError(
          `The checkpoint has no weight '${layer.name}.${name}' (tried ${paths.map((p) => `${p}.${name}`).join(', ')}). ` +
            `Expected a ${spec.architecture} checkpoint as save_pretrained writes it; pass { architecture } when config.json names another model.`,
        );
      }
      const source = tensors.get(key)!;
      const perm = permutation(layer.getClassName(), param);
      const shape = variable.shape as number[];
      const expected = perm ? perm.map((_, i) => shape[perm.indexOf(i)]!) : shape;
      if (!tf.util.arraysEqual(source.shape, expected))
        throw new ModelFormatError(
          `Checkpoint tensor '${key}' is [${source.shape.join(', ')}] but layer '${layer.name}' needs [${expected.join(', ')}] ` +
            `for the sizes in config.json. Check that config.json belongs to these weights${heads.has(layer.name) ? ', or pass { numLabels } for a new head' : ''}.`,
        );
      used.add(key);
      tf.tidy(() => {
        variable.write(perm ? tf.transpose(source, perm) : tf.clone(source));
      });
    }
  }
  return { newlyInitialized: [...newly], unused: [...tensors.keys()].filter((k) => !used.has(k)) };
}
