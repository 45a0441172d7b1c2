// A ViT as a tf.LayersModel whose layers are named by the Hugging Face module paths (transformers 4's
// names, as checkpoints store them): vit.embeddings.patch_embeddings.projection,
// vit.encoder.layer.N.attention.attention.query, ..., vit.layernorm, classifier.
import * as tfl from '@tensorflow/tfjs-layers';
import type { VitSpec } from './vit-config.js';
import { FirstToken, VitEmbeddings, VitSelfAttention } from './vit-layers.js';

type Sym = tfl.SymbolicTensor;

function apply(layer: tfl.layers.Layer, x: Sym | Sym[]): Sym {
  return layer.apply(x) as Sym;
}

/** The first (CLS) token of [batch, tokens, hidden] as [batch, hidden]. */
function clsToken(x: Sym, name: string): Sym {
  return apply(new FirstToken({ name }), x);
}

/** One pre-norm encoder layer (ViTLayer): x + attn(LN(x)), then h + MLP(LN(h)). */
function encoderLayer(spec: VitSpec, x: Sym, base: string): Sym {
  const { hidden, heads, eps, qkvBias } = spec;
  const h1 = apply(tfl.layers.layerNormalization({ epsilon: eps, name: `${base}.layernorm_before` }), x);
  const proj = (n: string): Sym =>
    apply(tfl.layers.dense({ units: hidden, useBias: qkvBias, name: `${base}.attention.attention.${n}` }), h1);
  const context = apply(new VitSelfAttention({ numHeads: heads, name: `${base}.attention.attention` }), [
    proj('query'),
    proj('key'),
    proj('value'),
  ]);
  const attn = apply(tfl.layers.dense({ units: hidden, name: `${base}.attention.output.dense` }), context);
  const h = apply(tfl.layers.add({ name: `${base}.attention.residual` }), [attn, x]);
  const h2 = apply(tfl.layers.layerNormalization({ epsilon: eps, name: `${base}.layernorm_after` }), h);
  const inner = apply(
    tfl.layers.dense({ units: spec.intermediate, activation: spec.activation, name: `${base}.intermediate.dense` }),
    h2,
  );
  const out = apply(tfl.layers.dense({ units: hidden, name: `${base}.output.dense` }), inner);
  return apply(tfl.layers.add({ name: `${base}.output.residual` }), [out, h]);
}

/**
 * Builds the ViT of `spec` with freshly initialised weights: input `pixel_values` [batch, height, width,
 * channels] (NHWC); output the logits [batch, labels] (ViTForImageClassification) or the last hidden state
 * [batch, patches + 1, hidden] (ViTModel; with a pooler, the pooler output [batch, hidden] second).
 */
export function buildVitGraph(spec: VitSpec): tfl.LayersModel {
  const p = spec.prefix;
  const [height, width] = spec.imageSize;
  const [ph, pw] = spec.patchSize;
  const patches = (height / ph) * (width / pw);
  const pixels = tfl.input({ shape: [height, width, spec.channels], name: 'pixel_values' });
  let x = apply(
    tfl.layers.conv2d({
      filters: spec.hidden,
      kernelSize: [ph, pw],
      strides: [ph, pw],
      padding: 'valid',
      name: `${p}embeddings.patch_embeddings.projection`,
    }),
    pixels,
  );
  // NHWC [b, h', w', hidden] → [b, h'·w', hidden]: the row-major patch order of PyTorch's flatten(2).transpose(1, 2).
  x = apply(
    tfl.layers.reshape({ targetShape: [patches, spec.hidden], name: `${p}embeddings.patch_embeddings.flatten` }),
    x,
  );
  x = apply(new VitEmbeddings({ name: `${p}embeddings` }), x);
  for (let i = 0; i < spec.layers; i++) x = encoderLayer(spec, x, `${p}encoder.layer.${i}`);
  x = apply(tfl.layers.layerNormalization({ epsilon: spec.eps, name: `${p}layernorm` }), x);
  const outputs: Sym[] = [];
  if (spec.architecture === 'ViTForImageClassification') {
    const cls = clsToken(x, `${p}first_token`);
    outputs.push(apply(tfl.layers.dense({ units: spec.numLabels, name: 'classifier' }), cls));
  } else {
    outputs.push(x);
    if (spec.pooler) {
      const cls = clsToken(x, 'pooler.first_token');
      outputs.push(
        apply(
          tfl.layers.dense({ units: spec.pooler.size, activation: spec.pooler.activation, name: 'pooler.dense' }),
          cls,
        ),
      );
    }
  }
  return tfl.model({ inputs: pixels, outputs: outputs.length === 1 ? outputs[0]! : outputs, name: spec.architecture });
}
