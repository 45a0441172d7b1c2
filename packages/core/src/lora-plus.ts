import * as tf from '@tensorflow/tfjs-core';
import { LoraConfigError } from './errors/index.js';

/** Options of {@link loraPlusOptimizer}. */
export interface LoraPlusOptions {
  /** Learning rate of every trainable weight except LoRA's B. */
  learningRate: number;
  /** λ: B's learning rate is `learningRate · ratio` (LoRA+ recommends 2⁴ = 16). */
  ratio?: number;
  /** Optimizer for both groups. */
  optimizer?: 'adam' | 'sgd' | 'rmsprop' | 'adamax';
  /** Adam betas / epsilon (for 'adam' and 'adamax'). */
  beta1?: number;
  /** See beta1. */
  beta2?: number;
  /** See beta1. */
  epsilon?: number;
}

/** Whether a variable is a LoRA B factor (`<layer>/lora_B.<adapter>`). */
export function isLoraB(name: string): boolean {
  return /(?:^|\/)lora_(?:embedding_)?B\.[^/]+$/.test(name);
}

function make(kind: NonNullable<LoraPlusOptions['optimizer']>, lr: number, o: LoraPlusOptions): tf.Optimizer {
  switch (kind) {
    case 'sgd':
      return tf.train.sgd(lr);
    case 'rmsprop':
      return tf.train.rmsprop(lr);
    case 'adamax':
      return tf.train.adamax(lr, o.beta1, o.beta2, o.epsilon);
    default:
      return tf.train.adam(lr, o.beta1, o.beta2, o.epsilon);
  }
}

/**
 * LoRA+ (Hayou et al., 2024): B learns `ratio` times faster than A. A tf.Optimizer usable with
 * `model.compile({optimizer})` or `optimizer.minimize`; it routes B's gradients to a second optimizer.
 */
export class LoraPlusOptimizer extends tf.Optimizer {
  /** @nocollapse */
  static get className(): string {
    return 'LoraPlusOptimizer';
  }
  private readonly base: tf.Optimizer;
  private readonly fast: tf.Optimizer;

  constructor(private readonly options: LoraPlusOptions) {
    super();
    const ratio = options.ratio ?? 16;
    if (!(options.learningRate > 0) || !Number.isFinite(options.learningRate)) {
      throw new LoraConfigError(`LoRA+ learningRate must be a positive number; found ${options.learningRate}.`, {
        field: 'learningRate',
      });
    }
    if (!(ratio > 0) || !Number.isFinite(ratio)) {
      throw new LoraConfigError(`LoRA+ ratio must be a positive number (the paper uses 16); found ${ratio}.`, {
        field: 'ratio',
      });
    }
    const kind = options.optimizer ?? 'adam';
    this.base = make(kind, options.learningRate, options);
    this.fast = make(kind, options.learningRate * ratio, options);
  }

  override applyGradients(variableGradients: Parameters<tf.Optimizer['applyGradients']>[0]): void {
    const list = Array.isArray(variableGradients)
      ? variableGradients
      : Object.keys(variableGradients).map((name) => ({ name, tensor: variableGradients[name] }));
    const b = list.filter((g) => isLoraB(g.name));
    const rest = list.filter((g) => !isLoraB(g.name));
    if (rest.length > 0) this.base.applyGradients(rest);
    if (b.length > 0) this.fast.applyGradients(b);
    this.incrementIterations();
  }

  override dispose(): void {
    this.base.dispose();
    this.fast.dispose();
    super.dispose();
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...this.options } as unknown as tf.serialization.ConfigDict;
  }

  /** @nocollapse */
  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    return new cls(config);
  }
}

/** Builds a {@link LoraPlusOptimizer}. */
export function loraPlusOptimizer(options: LoraPlusOptions): LoraPlusOptimizer {
  return new LoraPlusOptimizer(options);
}
