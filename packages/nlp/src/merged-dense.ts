import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { LoraConfigError, ShapeMismatchError } from '@tfjs-lora/core';
import { dotLast } from '@tfjs-lora/core/math';

type Shape = (number | null)[];

/** Constructor arguments of {@link MergedDense}. */
export interface MergedDenseArgs {
  /** Layer name. */
  name?: string;
  /** Output width; a multiple of the number of parts. */
  units: number;
  /**
   * Which equal parts of the output take a LoRA update (loralib's `enable_lora`), e.g. `[true, false, true]`
   * for a fused q|k|v projection adapted on q and v only. Its length is the number of parts.
   */
  enableLora: boolean[];
  /** Whether the layer adds a bias (default true). */
  useBias?: boolean;
  /** Seed of the Glorot-uniform kernel initialisation. */
  seed?: number;
}

/**
 * A linear layer whose output is made of equal parts that LoRA adapts separately: loralib's `MergedLinear`
 * (the fused q|k|v projection of GPT-2 with `enable_lora=[True, False, True]`). Without LoRA it is a Dense
 * layer (weights `kernel` [in, units], `bias` [units]); the LoRA adapter for it (`mergedDenseLayerKind`) gives
 * every enabled part its own rank-r update and leaves the other parts unchanged.
 */
export class MergedDense extends tfl.layers.Layer {
  /** @nocollapse */
  static className = 'MergedDense';
  /** Output width. */
  readonly units: number;
  /** Per part: whether LoRA adapts it. */
  readonly enableLora: readonly boolean[];
  /** Whether a bias is added. */
  readonly useBias: boolean;
  private readonly seed: number | undefined;
  private kernel: tfl.LayerVariable | null = null;
  private bias: tfl.LayerVariable | null = null;

  constructor(args: MergedDenseArgs) {
    super({ name: args.name });
    const parts = args.enableLora?.length ?? 0;
    if (parts < 1 || !Number.isInteger(args.units) || args.units % parts !== 0) {
      throw new LoraConfigError(
        `MergedDense needs units divisible by enableLora.length (one flag per equal part); found units ${args.units} and ` +
          `${parts} part(s). Pass e.g. units: 3·width with enableLora: [true, false, true].`,
        { field: 'enableLora' },
      );
    }
    this.units = args.units;
    this.enableLora = [...args.enableLora];
    this.useBias = args.useBias ?? true;
    this.seed = args.seed;
  }

  /** Width of one part (units / number of parts). */
  get partWidth(): number {
    return this.units / this.enableLora.length;
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = inputShape as Shape;
    const inF = shape[shape.length - 1];
    if (inF === null || inF === undefined) {
      throw new ShapeMismatchError(
        `MergedDense '${this.name}' needs a known input width; found [${shape.join(', ')}].`,
        { layer: this.name },
      );
    }
    const glorot = tfl.initializers.glorotUniform({ seed: this.seed });
    this.kernel = this.addWeight('kernel', [inF, this.units], 'float32', glorot);
    if (this.useBias) this.bias = this.addWeight('bias', [this.units], 'float32', tfl.initializers.zeros());
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      const y = dotLast(x, this.kernel!.read());
      return this.bias ? tf.add(y, this.bias.read()) : y;
    });
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shape = inputShape as Shape;
    return [...shape.slice(0, -1), this.units];
  }

  override getConfig(): tf.serialization.ConfigDict {
    const config: tf.serialization.ConfigDict = {
      ...super.getConfig(),
      units: this.units,
      enableLora: [...this.enableLora],
      useBias: this.useBias,
    };
    if (this.seed !== undefined) config['seed'] = this.seed;
    return config;
  }
}

tf.serialization.registerClass(MergedDense);
