// One PEFT reference case (peft-cases/<name> of the fixtures in @tfjs-lora/test-support): its files as tensors, and how each
// PyTorch layer kind maps to a tfjs layer (class, weight layout, NCHW vs NHWC).
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { FixtureSource } from './fixture-source.js';
import { readSafetensors } from '@tfjs-lora/core/safetensors';

/** A layer of a case, as `case.json` describes it (PyTorch terms). */
export interface CaseLayer {
  name: string;
  kind: string;
  in_features?: number;
  out_features?: number;
  in_channels?: number;
  out_channels?: number;
  kernel_size?: [number, number];
  stride?: [number, number];
  padding?: [number, number];
  num_embeddings?: number;
  embedding_dim?: number;
  bias?: boolean;
}

/** A loaded case: spec, PEFT's adapter_config.json, base weights, adapter tensors and expected values. */
export interface PeftCase {
  name: string;
  layers: CaseLayer[];
  adapterConfig: Record<string, unknown>;
  base: Record<string, tf.Tensor>;
  adapter: Record<string, tf.Tensor>;
  io: Record<string, tf.Tensor>;
}

/** Loads `peft-cases/<name>` from a fixture source. */
export async function loadPeftCase(source: FixtureSource, name: string): Promise<PeftCase> {
  const dir = `peft-cases/${name}`;
  const spec = JSON.parse(await source.text(`${dir}/case.json`)) as { layers: CaseLayer[] };
  return {
    name,
    layers: spec.layers,
    adapterConfig: JSON.parse(await source.text(`${dir}/adapter/adapter_config.json`)) as Record<string, unknown>,
    base: readSafetensors(await source.bytes(`${dir}/base.safetensors`)),
    adapter: readSafetensors(await source.bytes(`${dir}/adapter/adapter_model.safetensors`)),
    io: readSafetensors(await source.bytes(`${dir}/io.safetensors`)),
  };
}

/** Disposes every tensor of a case. */
export function disposeCase(c: PeftCase): void {
  for (const group of [c.base, c.adapter, c.io]) Object.values(group).forEach((t) => t.dispose());
}

/** How one PyTorch layer kind becomes a tfjs layer and how tensors convert between the two. */
export interface LayerKind {
  /** The tfjs class whose LayerKind must be registered. */
  tfjsClass: string;
  /** Package that registers that adapter, for the gap message. */
  adapterPackage: string;
  /** The tfjs layer with the case's hyper-parameters. */
  layer(l: CaseLayer, first: boolean, activation: string): tfl.layers.Layer;
  /** PyTorch weight → tfjs weight (e.g. Linear [out,in] → Dense [in,out]). */
  weightToTf(w: tf.Tensor): tf.Tensor;
  /** tfjs kernel → PyTorch layout, for comparing merged weights. */
  weightToTorch(w: tf.Tensor): tf.Tensor;
  /** PyTorch input/output layout → tfjs (NCHW → NHWC for convolutions). */
  activationToTf(t: tf.Tensor): tf.Tensor;
}

const same = (t: tf.Tensor) => tf.clone(t);

/** The layer kinds the cases use, by `case.json` kind. */
export const LAYER_KINDS: Record<string, LayerKind> = {
  linear: {
    tfjsClass: 'Dense',
    adapterPackage: '@tfjs-lora/core',
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
  },
  conv2d: {
    tfjsClass: 'Conv2D',
    adapterPackage: '@tfjs-lora/vision',
    layer: (l, first, activation) => {
      const [kh, kw] = l.kernel_size!;
      const [ph, pw] = l.padding ?? [0, 0];
      const sameish = ph === (kh - 1) / 2 && pw === (kw - 1) / 2 && (l.stride ?? [1, 1]).every((s) => s === 1);
      return tfl.layers.conv2d({
        name: l.name,
        filters: l.out_channels!,
        kernelSize: [kh, kw],
        strides: l.stride ?? [1, 1],
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
  },
  embedding: {
    tfjsClass: 'Embedding',
    adapterPackage: '@tfjs-lora/nlp',
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
  },
};

/** The kind spec of every layer of a case, or the kinds this suite does not know. */
export function caseKinds(c: Pick<PeftCase, 'layers'>): { kinds: LayerKind[]; unknown: string[] } {
  const unknown = c.layers.filter((l) => !LAYER_KINDS[l.kind]).map((l) => l.kind);
  return { kinds: c.layers.map((l) => LAYER_KINDS[l.kind]).filter(Boolean), unknown };
}

/**
 * The case's base model in tfjs with PEFT's base weights. Hidden layers of `mlp_patterns` use ReLU (as
 * the case's PyTorch module does); every other case is a single layer without activation.
 */
export function buildBase(c: PeftCase): tfl.LayersModel {
  const model = tfl.sequential();
  c.layers.forEach((l, i) => {
    const activation = c.name === 'mlp_patterns' && i < c.layers.length - 1 ? 'relu' : 'linear';
    model.add(LAYER_KINDS[l.kind].layer(l, i === 0, activation));
  });
  for (const l of c.layers) {
    const kind = LAYER_KINDS[l.kind];
    tf.tidy(() => {
      const weights = [kind.weightToTf(c.base[`${l.name}.weight`])];
      if (c.base[`${l.name}.bias`]) weights.push(c.base[`${l.name}.bias`]);
      model.getLayer(l.name).setWeights(weights);
    });
  }
  return model;
}
