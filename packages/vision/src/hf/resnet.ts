// Hugging Face ResNetForImageClassification as a tf.LayersModel named by its module paths
// (resnet.embedder.embedder.convolution, resnet.encoder.stages.S.layers.L.layer.K.convolution, ...,
// classifier.1). PyTorch's symmetric conv padding is an explicit ZeroPadding2D before a 'valid' conv (tfjs's
// 'same' pads bottom/right only when the stride is 2).
import * as tfl from '@tensorflow/tfjs-layers';
import { ModelFormatError } from '@tfjs-lora/core';

type Sym = tfl.SymbolicTensor;

/** The sizes of a ResNet, from config.json. */
export interface ResNetSpec {
  /** The architecture built. */
  readonly architecture: 'ResNetForImageClassification';
  /** Module-path prefix of the trunk. */
  readonly prefix: 'resnet.';
  /** Input channels. */
  readonly channels: number;
  /** Stem output channels. */
  readonly embeddingSize: number;
  /** Output channels of each stage. */
  readonly hiddenSizes: readonly number[];
  /** Layers per stage. */
  readonly depths: readonly number[];
  /** `'bottleneck'` (1×1, 3×3, 1×1) or `'basic'` (3×3, 3×3) layers. */
  readonly layerType: 'bottleneck' | 'basic';
  /** Whether the first stage's first layer has stride 2. */
  readonly downsampleInFirstStage: boolean;
  /** Whether a bottleneck strides in its first 1×1 conv instead of its 3×3 conv. */
  readonly downsampleInBottleneck: boolean;
  /** Classes of the classification head. */
  readonly numLabels: number;
}

function numbers(config: Record<string, unknown>, key: string, fallback: number[]): number[] {
  const v = config[key] ?? fallback;
  if (!Array.isArray(v) || !v.every((n) => typeof n === 'number'))
    throw new ModelFormatError(`config.json's ${key} must be a list of numbers; found ${JSON.stringify(v)}.`);
  return v as number[];
}

/** The {@link ResNetSpec} of `config` (transformers' ResNetConfig defaults where a key is missing). */
export function readResNetConfig(config: Record<string, unknown>): ResNetSpec {
  const act = config['hidden_act'] ?? 'relu';
  const layerType = config['layer_type'] ?? 'bottleneck';
  if (act !== 'relu' || (layerType !== 'bottleneck' && layerType !== 'basic'))
    throw new ModelFormatError(
      `ResNet config.json with hidden_act '${String(act)}' and layer_type '${String(layerType)}' is not supported; supported: hidden_act relu, layer_type bottleneck or basic.`,
    );
  const id2label = config['id2label'];
  const hiddenSizes = numbers(config, 'hidden_sizes', [256, 512, 1024, 2048]);
  const depths = numbers(config, 'depths', [3, 4, 6, 3]);
  if (hiddenSizes.length !== depths.length)
    throw new ModelFormatError(
      `config.json's hidden_sizes (${hiddenSizes.length}) and depths (${depths.length}) must have one entry per stage.`,
    );
  return {
    architecture: 'ResNetForImageClassification',
    prefix: 'resnet.',
    channels: typeof config['num_channels'] === 'number' ? config['num_channels'] : 3,
    embeddingSize: typeof config['embedding_size'] === 'number' ? config['embedding_size'] : 64,
    hiddenSizes,
    depths,
    layerType,
    downsampleInFirstStage: config['downsample_in_first_stage'] === true,
    downsampleInBottleneck: config['downsample_in_bottleneck'] === true,
    numLabels:
      id2label && typeof id2label === 'object'
        ? Object.keys(id2label).length
        : typeof config['num_labels'] === 'number'
          ? config['num_labels']
          : 2,
  };
}

function apply(layer: tfl.layers.Layer, x: Sym | Sym[]): Sym {
  return layer.apply(x) as Sym;
}

/** ResNetConvLayer: conv (PyTorch padding k // 2, no bias) → BatchNorm (eps 1e-5) → optional ReLU. */
function convLayer(x: Sym, name: string, filters: number, kernel: number, stride: number, relu: boolean): Sym {
  const pad = Math.floor(kernel / 2);
  if (pad > 0)
    x = apply(
      tfl.layers.zeroPadding2d({
        padding: [
          [pad, pad],
          [pad, pad],
        ],
        name: `${name}.padding`,
      }),
      x,
    );
  x = apply(
    tfl.layers.conv2d({
      filters,
      kernelSize: kernel,
      strides: stride,
      padding: 'valid',
      useBias: false,
      name: `${name}.convolution`,
    }),
    x,
  );
  x = apply(tfl.layers.batchNormalization({ epsilon: 1e-5, momentum: 0.9, name: `${name}.normalization` }), x);
  return relu ? apply(tfl.layers.reLU({ name: `${name}.activation` }), x) : x;
}

/** One residual layer (ResNetBottleNeckLayer or ResNetBasicLayer): relu(layer(x) + shortcut(x)). */
function residualLayer(spec: ResNetSpec, x: Sym, name: string, inC: number, outC: number, stride: number): Sym {
  let residual = x;
  if (inC !== outC || stride !== 1) {
    const conv = apply(
      tfl.layers.conv2d({
        filters: outC,
        kernelSize: 1,
        strides: stride,
        useBias: false,
        name: `${name}.shortcut.convolution`,
      }),
      x,
    );
    residual = apply(
      tfl.layers.batchNormalization({ epsilon: 1e-5, momentum: 0.9, name: `${name}.shortcut.normalization` }),
      conv,
    );
  }
  let h = x;
  if (spec.layerType === 'bottleneck') {
    const reduced = Math.floor(outC / 4);
    const [s1, s3] = spec.downsampleInBottleneck ? [stride, 1] : [1, stride];
    h = convLayer(h, `${name}.layer.0`, reduced, 1, s1, true);
    h = convLayer(h, `${name}.layer.1`, reduced, 3, s3, true);
    h = convLayer(h, `${name}.layer.2`, outC, 1, 1, false);
  } else {
    h = convLayer(h, `${name}.layer.0`, outC, 3, stride, true);
    h = convLayer(h, `${name}.layer.1`, outC, 3, 1, false);
  }
  const sum = apply(tfl.layers.add({ name: `${name}.residual` }), [h, residual]);
  return apply(tfl.layers.reLU({ name: `${name}.activation` }), sum);
}

/**
 * Builds ResNetForImageClassification with freshly initialised weights: input `pixel_values` [batch, height,
 * width, channels] (NHWC, any size); output the logits [batch, labels]. BatchNorm layers run on their moving statistics
 * in `predict` and on batch statistics when training, as PyTorch's eval() and train().
 */
export function buildResNetGraph(spec: ResNetSpec): tfl.LayersModel {
  const p = spec.prefix;
  const pixels = tfl.input({ shape: [null, null, spec.channels], name: 'pixel_values' }); // any image size
  let x = convLayer(pixels, `${p}embedder.embedder`, spec.embeddingSize, 7, 2, true);
  x = apply(
    tfl.layers.zeroPadding2d({
      padding: [
        [1, 1],
        [1, 1],
      ],
      name: `${p}embedder.pooler.padding`,
    }),
    x,
  ); // after ReLU: 0 ≡ −∞
  x = apply(tfl.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'valid', name: `${p}embedder.pooler` }), x);
  let inC = spec.embeddingSize;
  spec.hiddenSizes.forEach((outC, s) => {
    const stride = s === 0 ? (spec.downsampleInFirstStage ? 2 : 1) : 2;
    for (let l = 0; l < spec.depths[s]!; l++) {
      x = residualLayer(
        spec,
        x,
        `${p}encoder.stages.${s}.layers.${l}`,
        l === 0 ? inC : outC,
        outC,
        l === 0 ? stride : 1,
      );
    }
    inC = outC;
  });
  x = apply(tfl.layers.globalAveragePooling2d({ name: `${p}pooler` }), x);
  const logits = apply(tfl.layers.dense({ units: spec.numLabels, name: 'classifier.1' }), x);
  return tfl.model({ inputs: pixels, outputs: logits, name: spec.architecture });
}
