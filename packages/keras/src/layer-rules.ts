// What tfjs-layers 4.22 can compute of a Keras 3 layer: its class, the config keys it would silently
// ignore (refused unless they hold Keras's default), keys it spells differently, and activations.

/** Keras 3 class names tfjs-layers registers (same name, same meaning once the config is rewritten). */
export const SUPPORTED_CLASSES: ReadonlySet<string> = new Set([
  'InputLayer',
  'Functional',
  'Model',
  'Sequential',
  'Dense',
  'Activation',
  'Dropout',
  'Flatten',
  'Reshape',
  'Permute',
  'RepeatVector',
  'Masking',
  'Conv1D',
  'Conv2D',
  'Conv3D',
  'Conv2DTranspose',
  'Conv3DTranspose',
  'SeparableConv2D',
  'DepthwiseConv2D',
  'Cropping2D',
  'UpSampling2D',
  'ZeroPadding2D',
  'MaxPooling1D',
  'MaxPooling2D',
  'MaxPooling3D',
  'AveragePooling1D',
  'AveragePooling2D',
  'AveragePooling3D',
  'GlobalAveragePooling1D',
  'GlobalAveragePooling2D',
  'GlobalMaxPooling1D',
  'GlobalMaxPooling2D',
  'BatchNormalization',
  'LayerNormalization',
  'Add',
  'Multiply',
  'Average',
  'Maximum',
  'Minimum',
  'Concatenate',
  'Dot',
  'Embedding',
  'LSTM',
  'GRU',
  'SimpleRNN',
  'Bidirectional',
  'TimeDistributed',
  'ConvLSTM2D',
  'ReLU',
  'LeakyReLU',
  'PReLU',
  'ELU',
  'Softmax',
  'SpatialDropout1D',
  'GaussianNoise',
  'GaussianDropout',
  'AlphaDropout',
  'Rescaling',
  'Resizing',
  'CenterCrop',
]);

/**
 * Config keys tfjs-layers does not read, with the value that makes ignoring them harmless (Keras's default
 * or an inference-only setting). A different value is refused: the model would compute something else.
 */
const IGNORED_KEYS: Record<string, Record<string, unknown>> = {
  '*': { quantization_config: null, lora_rank: null },
  Conv1D: { groups: 1 },
  Conv2D: { groups: 1 },
  Conv3D: { groups: 1 },
  Conv2DTranspose: { output_padding: null },
  Conv3DTranspose: { output_padding: null },
  BatchNormalization: { renorm: false },
  ReLU: { negative_slope: 0, threshold: 0 },
  LayerNormalization: { rms_scaling: false },
  GRU: { reset_after: false },
  GlobalAveragePooling1D: { keepdims: false },
  GlobalAveragePooling2D: { keepdims: false },
  GlobalMaxPooling1D: { keepdims: false },
  GlobalMaxPooling2D: { keepdims: false },
  Resizing: { pad_to_aspect_ratio: false },
  Embedding: { sparse: false },
  Dense: { lora_rank: null },
};

/** Keys whose tfjs spelling differs (Keras 3 name → tfjs-layers' Keras-format name). */
export const RENAMED_KEYS: Record<string, Record<string, string>> = {
  LeakyReLU: { negative_slope: 'alpha' },
};

/** Keras activation names → tfjs-layers' (same function); others are refused. */
export const ACTIVATIONS: Readonly<Record<string, string>> = {
  linear: 'linear',
  relu: 'relu',
  relu6: 'relu6',
  sigmoid: 'sigmoid',
  tanh: 'tanh',
  softmax: 'softmax',
  softplus: 'softplus',
  softsign: 'softsign',
  selu: 'selu',
  elu: 'elu',
  gelu: 'gelu',
  swish: 'swish',
  silu: 'swish',
  mish: 'mish',
  log_softmax: 'logSoftmax',
};

/** Why an activation is refused, for those tfjs-layers has under the same name with another formula. */
const ACTIVATION_NOTES: Record<string, string> = {
  hard_sigmoid: "Keras 3's hard_sigmoid is relu6(x + 3) / 6, tfjs-layers' is Keras 2's clip(0.2x + 0.5)",
};

function equalValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The config keys of `className` that hold a value tfjs-layers would ignore, as `'key = value'`. */
export function ignoredOptions(className: string, config: Record<string, unknown>): string[] {
  const rules = { ...IGNORED_KEYS['*'], ...(IGNORED_KEYS[className] ?? {}) };
  return Object.entries(rules).flatMap(([key, harmless]) =>
    key in config && !equalValue(config[key], harmless) && !(harmless === null && config[key] === undefined)
      ? [`${key} = ${JSON.stringify(config[key])} (tfjs-layers ignores ${key}; only ${JSON.stringify(harmless)} loads)`]
      : [],
  );
}

/** The tfjs activation for a Keras one, or why there is none. */
export function mapActivation(name: string): { ok: string } | { reason: string } {
  const mapped = ACTIVATIONS[name];
  if (mapped !== undefined) return { ok: mapped };
  return {
    reason: `activation '${name}' (${ACTIVATION_NOTES[name] ?? 'tfjs-layers has no such activation'})`,
  };
}

/** Keras 3 initializer class names whose tfjs-layers name differs. */
export const INITIALIZERS: Readonly<Record<string, string>> = {
  LecunNormal: 'LeCunNormal',
  LecunUniform: 'LeCunUniform',
  IdentityInitializer: 'Identity',
  RandomNormal: 'RandomNormal',
};

/** Keras 3 regularizers → tfjs-layers' L1L2. */
export function mapRegularizer(
  className: string,
  config: Record<string, unknown>,
): Record<string, unknown> | undefined {
  if (className === 'L1') return { class_name: 'L1L2', config: { l1: config['l1'] ?? 0, l2: 0 } };
  if (className === 'L2') return { class_name: 'L1L2', config: { l1: 0, l2: config['l2'] ?? 0 } };
  if (className === 'L1L2') return { class_name: 'L1L2', config: { l1: config['l1'] ?? 0, l2: config['l2'] ?? 0 } };
  return undefined;
}
