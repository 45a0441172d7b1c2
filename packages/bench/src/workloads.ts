// The benchmark's two workloads, built identically (same layers, same LoRA targets, same batch) in
// tfjs here and in PyTorch + PEFT in peft_worker.py.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { applyLora, type LoraModel } from '@tfjs-lora/core';
import { buildMnistCnn } from '@tfjs-lora/vision/experiments';

/** Batch size of every workload. */
export const BATCH = 64;
/** LoRA rank of every workload (alpha = 2r). */
export const RANK = 8;

/** The benchmark's workloads. */
export type WorkloadName = 'mlp' | 'cnn';
/** LoRA (only A/B train) or full fine-tuning (every weight trains). */
export type Variant = 'lora' | 'full';

/** One model ready to train. */
export interface Trainer {
  /** Trainable parameters. */
  trainable: number;
  /** One training step: forward, loss, backward, Adam update; resolves to the loss once read back (`await cost.data()`, as PyTorch's `loss.item()`). */
  step(): Promise<number>;
  /** Frees the model, optimizer and batch. */
  dispose(): void;
}

/** What each workload is, for the table. */
export const WORKLOADS: Record<WorkloadName, { title: string; targets: string[] }> = {
  mlp: { title: 'MLP 784-512-512-10', targets: ['hidden1', 'hidden2', 'head'] },
  cnn: { title: 'CNN (conv 32, conv 64, fc 128, head)', targets: ['conv1', 'conv2', 'fc1', 'head'] },
};

/**
 * The MLP 784-512-512-10 with seeded Glorot kernels (seeds 1, 2, 3): the same initial weights in every
 * suite that builds it. Its head gives logits unless `softmaxHead` (core-fit's `model.fit` comparison).
 */
export function buildMlp(options: { softmaxHead?: boolean } = {}): tfl.Sequential {
  const init = (seed: number) => tfl.initializers.glorotUniform({ seed });
  return tfl.sequential({
    layers: [
      tfl.layers.dense({
        name: 'hidden1',
        units: 512,
        activation: 'relu',
        inputShape: [784],
        kernelInitializer: init(1),
      }),
      tfl.layers.dense({ name: 'hidden2', units: 512, activation: 'relu', kernelInitializer: init(2) }),
      tfl.layers.dense({
        name: 'head',
        units: 10,
        ...(options.softmaxHead ? { activation: 'softmax' as const } : {}),
        kernelInitializer: init(3),
      }),
    ],
  });
}

/** The CNN with logits out (the experiment's model ends in softmax; PyTorch's loss takes logits). */
function buildCnn(): tfl.LayersModel {
  const model = buildMnistCnn(1);
  const head = model.getLayer('head') as tfl.layers.Layer & { activation: unknown };
  const config = { ...head.getConfig(), activation: 'linear' };
  const logits = tfl.layers.dense(config as unknown as Parameters<typeof tfl.layers.dense>[0]);
  const out = logits.apply(model.getLayer('fc1').output as tfl.SymbolicTensor) as tfl.SymbolicTensor;
  const rebuilt = tfl.model({ inputs: model.inputs, outputs: out, name: 'mnist_cnn_logits' });
  logits.setWeights(head.getWeights());
  return rebuilt;
}

/** Builds `workload` for `variant` with a fixed random batch and an Adam(1e-3) optimizer. */
export function buildTrainer(workload: WorkloadName, variant: Variant): Trainer {
  const base = workload === 'mlp' ? buildMlp() : buildCnn();
  let lora: LoraModel | undefined;
  if (variant === 'lora')
    lora = applyLora(base, { r: RANK, loraAlpha: 2 * RANK, targetModules: WORKLOADS[workload].targets }, { seed: 7 });
  const model = lora ? lora.model : base;
  const inputShape = workload === 'mlp' ? [BATCH, 784] : [BATCH, 28, 28, 1];
  const x = tf.randomUniform(inputShape, 0, 1, 'float32', 1);
  const y = tf.oneHot(
    tf.tensor1d(
      Array.from({ length: BATCH }, (_, i) => (i * 7) % 10),
      'int32',
    ),
    10,
  );
  const optimizer = tf.train.adam(1e-3);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const trainable = vars.reduce((n, v) => n + v.size, 0);
  return {
    trainable,
    async step() {
      const cost = optimizer.minimize(
        () => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
        true,
        vars,
      )!;
      const loss = (await cost.data())[0];
      cost.dispose();
      return loss;
    },
    dispose() {
      lora?.dispose();
      base.dispose();
      optimizer.dispose();
      tf.dispose([x, y]);
    },
  };
}
