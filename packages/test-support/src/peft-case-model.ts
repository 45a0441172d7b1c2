// A PEFT reference case in tfjs, for Node and browser pages (no file system here): the case's files as
// tensors, the tfjs layer each PyTorch layer kind becomes, the base model with PEFT's base weights, and
// the layout conversions between PyTorch (Linear [out,in], Conv2d [out,in,kh,kw], NCHW) and tfjs
// (Dense [in,out], Conv2D [kh,kw,in,out], NHWC). Written here, independent of the library under test.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { readSafetensorsBytes } from './safetensors-bytes.js';

/** One layer of a case's architecture (case.json), in PyTorch's terms. */
export interface PeftCaseLayer {
  name: string;
  kind: 'linear' | 'conv2d' | 'embedding' | (string & {});
  in_features?: number;
  out_features?: number;
  bias?: boolean;
  in_channels?: number;
  out_channels?: number;
  kernel_size?: [number, number];
  stride?: [number, number];
  padding?: [number, number];
  num_embeddings?: number;
  embedding_dim?: number;
}

/** One PEFT reference case: its layers, LoRA config, adapter_config.json and the tensors of its three files. */
export interface PeftCase {
  name: string;
  layers: PeftCaseLayer[];
  /** The LoraConfig arguments the generator gave PEFT (case.json `lora_config`). */
  loraConfig: Record<string, unknown>;
  /** adapter/adapter_config.json, as PEFT wrote it. */
  adapterConfig: Record<string, unknown>;
  /** base.safetensors: base weights, PyTorch layout. */
  base: Record<string, tf.Tensor>;
  /** adapter/adapter_model.safetensors, PEFT key names. */
  adapter: Record<string, tf.Tensor>;
  /** io.safetensors: input, upstream, output, output_base, grad.*, merged.*. */
  io: Record<string, tf.Tensor>;
}

/** The files of a case folder, as text and bytes. */
export interface PeftCaseFiles {
  /** case.json */
  caseJson: string;
  /** adapter/adapter_config.json */
  adapterConfigJson: string;
  /** base.safetensors */
  base: Uint8Array;
  /** adapter/adapter_model.safetensors */
  adapter: Uint8Array;
  /** io.safetensors */
  io: Uint8Array;
}

/** The files of case `<name>`, relative to the fixtures root (for a fetch or a file reader). */
export function peftCaseFileNames(name: string): Record<keyof PeftCaseFiles, string> {
  const dir = `peft-cases/${name}`;
  return {
    caseJson: `${dir}/case.json`,
    adapterConfigJson: `${dir}/adapter/adapter_config.json`,
    base: `${dir}/base.safetensors`,
    adapter: `${dir}/adapter/adapter_model.safetensors`,
    io: `${dir}/io.safetensors`,
  };
}

/** A case from its files (dispose it with {@link disposeCase}). */
export function peftCaseFromFiles(name: string, files: PeftCaseFiles): PeftCase {
  const spec = JSON.parse(files.caseJson) as { layers: PeftCaseLayer[]; lora_config: Record<string, unknown> };
  return {
    name,
    layers: spec.layers,
    loraConfig: spec.lora_config,
    adapterConfig: JSON.parse(files.adapterConfigJson) as Record<string, unknown>,
    base: readSafetensorsBytes(files.base),
    adapter: readSafetensorsBytes(files.adapter),
    io: readSafetensorsBytes(files.io),
  };
}

/** Disposes every tensor of a case. */
export function disposeCase(c: PeftCase): void {
  for (const group of [c.base, c.adapter, c.io]) Object.values(group).forEach((t) => t.dispose());
}

/** How one PyTorch layer kind of the cases becomes a tfjs layer, and how its tensors convert. */
export interface CaseLayerKind {
  /** The tfjs layer class (whose LoRA layer kind must be registered). */
  tfjsClass: string;
  /** The package that registers LoRA for that class. */
  loraPackage: string;
  /** The tfjs layer with the case's hyper-parameters. */
  layer(l: PeftCaseLayer, first: boolean, activation: string): tfl.layers.Layer;
  /** PyTorch weight → tfjs weight (Linear [out,in] → Dense [in,out]; a bias is unchanged). */
  weightToTf(w: tf.Tensor): tf.Tensor;
  /** tfjs weight → PyTorch layout, for comparing merged weights. */
  weightToTorch(w: tf.Tensor): tf.Tensor;
  /** PyTorch activation layout → tfjs (NCHW → NHWC for convolutions). */
  activationToTf(t: tf.Tensor): tf.Tensor;
  /** tfjs activation layout → PyTorch. */
  activationToTorch(t: tf.Tensor): tf.Tensor;
}

const same = (t: tf.Tensor) => tf.clone(t);

/** The layer kinds the cases use, by case.json `kind`. */
export const CASE_LAYER_KINDS: Record<string, CaseLayerKind> = {
  linear: {
    tfjsClass: 'Dense',
    loraPackage: '@tfjs-lora/core',
    layer: (l, first, activation) =>
      tfl.layers.dense({
        name: l.name,
        units: l.out_features!,
        useBias: l.bias !== false,
        activation: activation as 'relu',
        ...(first ? { inputShape: [l.in_features!] } : {}),
      }),
    weightToTf: (w) => (w.rank === 2 ? tf.transpose(w) : tf.clone(w)),
    weightToTorch: (w) => (w.rank === 2 ? tf.transpose(w) : tf.clone(w)),
    activationToTf: same,
    activationToTorch: same,
  },
  conv2d: {
    tfjsClass: 'Conv2D',
    loraPackage: '@tfjs-lora/vision',
    layer: (l, first, activation) => {
      const [kh, kw] = l.kernel_size!;
      const [ph, pw] = l.padding ?? [0, 0];
      const stride = l.stride ?? [1, 1];
      const sameish = ph === (kh - 1) / 2 && pw === (kw - 1) / 2 && stride.every((s) => s === 1);
      if (!sameish && (ph !== 0 || pw !== 0))
        throw new Error(`case layer ${l.name}: PyTorch padding ${l.padding} has no tfjs equivalent here`);
      return tfl.layers.conv2d({
        name: l.name,
        filters: l.out_channels!,
        kernelSize: [kh, kw],
        strides: stride,
        padding: sameish ? 'same' : 'valid',
        useBias: l.bias !== false,
        activation: activation as 'relu',
        dataFormat: 'channelsLast',
        ...(first ? { inputShape: [null, null, l.in_channels!] as unknown as number[] } : {}),
      });
    },
    weightToTf: (w) => (w.rank === 4 ? tf.transpose(w, [2, 3, 1, 0]) : tf.clone(w)),
    weightToTorch: (w) => (w.rank === 4 ? tf.transpose(w, [3, 2, 0, 1]) : tf.clone(w)),
    activationToTf: (t) => (t.rank === 4 ? tf.transpose(t, [0, 2, 3, 1]) : tf.clone(t)),
    activationToTorch: (t) => (t.rank === 4 ? tf.transpose(t, [0, 3, 1, 2]) : tf.clone(t)),
  },
  embedding: {
    tfjsClass: 'Embedding',
    loraPackage: '@tfjs-lora/nlp',
    layer: (l, first) =>
      tfl.layers.embedding({
        name: l.name,
        inputDim: l.num_embeddings!,
        outputDim: l.embedding_dim!,
        ...(first ? { inputShape: [null] as unknown as number[] } : {}),
      }),
    weightToTf: same,
    weightToTorch: same,
    activationToTf: same,
    activationToTorch: same,
  },
};

/** The kind of every layer of a case, and the kinds not known here. */
export function caseKinds(c: Pick<PeftCase, 'layers'>): { kinds: CaseLayerKind[]; unknown: string[] } {
  const unknown = c.layers.filter((l) => !CASE_LAYER_KINDS[l.kind]).map((l) => l.kind);
  return { kinds: c.layers.map((l) => CASE_LAYER_KINDS[l.kind]!).filter(Boolean), unknown };
}

/** The kind of a case's layer by its tfjs class ('Dense', 'Conv2D', 'Embedding'). */
export function caseKindOfClass(tfjsClass: string): CaseLayerKind {
  const kind = Object.values(CASE_LAYER_KINDS).find((k) => k.tfjsClass === tfjsClass);
  if (!kind) throw new Error(`no PEFT case layer kind builds a ${tfjsClass}`);
  return kind;
}

/**
 * The case's base model in tfjs with PEFT's base weights. Hidden layers of `mlp_patterns` use ReLU (as the
 * case's PyTorch module does); every other case is a single layer without activation.
 */
export function buildCaseModel(c: Pick<PeftCase, 'name' | 'layers' | 'base'>): tfl.LayersModel {
  const model = tfl.sequential();
  c.layers.forEach((l, i) => {
    const activation = c.name === 'mlp_patterns' && i < c.layers.length - 1 ? 'relu' : 'linear';
    model.add(CASE_LAYER_KINDS[l.kind]!.layer(l, i === 0, activation));
  });
  for (const l of c.layers) {
    const kind = CASE_LAYER_KINDS[l.kind]!;
    tf.tidy(() => {
      const weights = [kind.weightToTf(c.base[`${l.name}.weight`]!)];
      if (c.base[`${l.name}.bias`]) weights.push(c.base[`${l.name}.bias`]!);
      model.getLayer(l.name).setWeights(weights);
    });
  }
  return model;
}

/** A case's base model with the conversions its tensors need. */
export interface CaseModel {
  /** The base model ({@link buildCaseModel}); the caller disposes it. */
  model: tfl.LayersModel;
  /** PyTorch input or upstream gradient → tfjs layout (NCHW → NHWC for conv cases). */
  input(x: tf.Tensor): tf.Tensor;
  /** tfjs output → PyTorch layout, for comparison with io.safetensors. */
  output(y: tf.Tensor): tf.Tensor;
  /** A layer's tfjs weight as PyTorch's parameter (`weight`, `bias`), for merged-weight checks. */
  peftParam(layer: tfl.layers.Layer, param: string, value: tf.Tensor): tf.Tensor;
}

/** Builds the case's base model ({@link buildCaseModel}) with its layout conversions. */
export function caseModel(c: Pick<PeftCase, 'name' | 'layers' | 'base'>): CaseModel {
  const first = CASE_LAYER_KINDS[c.layers[0]!.kind]!;
  return {
    model: buildCaseModel(c),
    input: (x) => first.activationToTf(x),
    output: (y) => first.activationToTorch(y),
    peftParam: (layer, param, value) =>
      param === 'weight' ? caseKindOfClass(layer.getClassName()).weightToTorch(value) : tf.clone(value),
  };
}
