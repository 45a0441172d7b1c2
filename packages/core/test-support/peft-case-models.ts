// Builds the tfjs model of a PEFT reference case (@tfjs-lora/test-support: peft-cases/<name>/case.json) with
// PEFT's base weights, and converts inputs/outputs between PyTorch's and tfjs's layouts. Shared by the
// core tests and by packages that add layer kinds (vision: conv2d, nlp: embedding).
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { findPeftWeightLayout, paramToPeft, paramToTfjs } from '../src/peft/weight-layouts.js';
import type { PeftCase } from '@tfjs-lora/test-support';

/** A case's model and the layout conversions its tensors need. */
export interface CaseModel {
  model: tfl.LayersModel;
  /** PyTorch input (NCHW for conv) → tfjs input (NHWC). */
  input(x: tf.Tensor): tf.Tensor;
  /** tfjs output → PyTorch layout, for comparison with io.safetensors. */
  output(y: tf.Tensor): tf.Tensor;
  /** A layer's tfjs weight as PyTorch's parameter (`weight`/`bias`), for merged-weight checks. */
  peftParam(layer: tfl.layers.Layer, param: string, value: tf.Tensor): tf.Tensor;
}

/** The tfjs layer class a case's layers need ('Dense', 'Conv2D', 'Embedding'). */
export function caseLayerClass(kind: string): string {
  return kind === 'conv2d' ? 'Conv2D' : kind === 'embedding' ? 'Embedding' : 'Dense';
}

/** The package expected to provide the layer kind for a class. */
export function layerKindPackageFor(className: string): string {
  return className === 'Embedding' ? '@tfjs-lora/nlp' : className === 'Dense' ? '@tfjs-lora/core' : '@tfjs-lora/vision';
}

type SpecLayer = PeftCase['spec']['layers'][number] & Record<string, unknown>;

function setParams(layer: tfl.layers.Layer, c: PeftCase, name: string): void {
  const layout = findPeftWeightLayout(layer.getClassName())!;
  const values = layer.weights.map((w) => {
    const local = w.originalName.slice(w.originalName.lastIndexOf('/') + 1);
    const [param, pl] = Object.entries(layout.params).find(([, p]) => p.weight === local)!;
    return paramToTfjs(pl, c.base[`${name}.${param}`]!);
  });
  layer.setWeights(values);
  tf.dispose(values);
}

/** Builds the case's architecture with its base weights. */
export function buildCaseModel(c: PeftCase): CaseModel {
  const layers = c.spec.layers as SpecLayer[];
  const model = tfl.sequential();
  const first = layers[0]!;
  layers.forEach((l, i) => {
    if (l.kind === 'conv2d') {
      const k = l['kernel_size'] as number[];
      const pad = l['padding'] as number[];
      if (pad[0] !== (k[0]! - 1) / 2 || pad[1] !== (k[1]! - 1) / 2)
        throw new Error(`case ${c.name}: only 'same' padding is built`);
      model.add(
        tfl.layers.conv2d({
          name: l.name,
          filters: l['out_channels'] as number,
          kernelSize: k,
          strides: l['stride'] as number[],
          padding: 'same',
          useBias: l.bias !== false,
          ...(i === 0 ? { inputShape: [null, null, l['in_channels'] as number] as unknown as number[] } : {}),
        }),
      );
    } else if (l.kind === 'embedding') {
      model.add(
        tfl.layers.embedding({
          name: l.name,
          inputDim: l['num_embeddings'] as number,
          outputDim: l['embedding_dim'] as number,
          inputShape: [null] as unknown as number[],
        }),
      );
    } else {
      model.add(
        tfl.layers.dense({
          name: l.name,
          units: l.out_features!,
          useBias: l.bias !== false,
          activation: c.name === 'mlp_patterns' && i < layers.length - 1 ? 'relu' : 'linear',
          ...(i === 0 ? { inputShape: [l.in_features!] } : {}),
        }),
      );
    }
  });
  for (const l of layers) setParams(model.getLayer(l.name), c, l.name);
  const conv = first.kind === 'conv2d';
  return {
    model,
    input: (x) => (conv ? tf.transpose(x, [0, 2, 3, 1]) : tf.clone(x)),
    output: (y) => (conv ? tf.transpose(y, [0, 3, 1, 2]) : tf.clone(y)),
    peftParam: (layer, param, value) => paramToPeft(findPeftWeightLayout(layer.getClassName())!.params[param]!, value),
  };
}
