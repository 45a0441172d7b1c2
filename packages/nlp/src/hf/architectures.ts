// GPT-2, BERT and DistilBERT as flat graphs of ordinary tfjs layers named by their Hugging Face module paths
// (`transformer.h.0.attn.c_attn`, `bert.encoder.layer.0.attention.self.query`, ...), so PEFT adapters apply
// with no module map. Dropout is left out: these are the models in eval mode.
import * as tfl from '@tensorflow/tfjs-layers';
import { ScaledDotProductAttention } from '../attention-layer.js';
import { LayerNorm } from '../layer-norm.js';
import { PositionEmbedding } from '../position-embedding.js';
import type { HfTextConfig } from './config.js';
import { TokenPooling } from './token-pooling.js';

type Sym = tfl.SymbolicTensor;

/** A built architecture and what the weight loader needs to know about it. */
export interface HfTextGraph {
  readonly model: tfl.LayersModel;
  /** The prefix of the trunk's module paths (`'transformer.'`, `'bert.'`, `'distilbert.'`, or `''` for base models). */
  readonly prefix: string;
  /** The family's trunk prefix, for checkpoints saved from another head (`'transformer.'`, `'bert.'`, `'distilbert.'`). */
  readonly familyPrefix: string;
  /** Dense layers whose PyTorch weight is stored [in, out] (GPT-2's Conv1D), not nn.Linear's [out, in]. */
  readonly conv1d: ReadonlySet<string>;
  /** Head layers a checkpoint of another head may lack; they keep their random initialisation, as in transformers. */
  readonly heads: ReadonlySet<string>;
}

/** How layers are initialised: zeros when a checkpoint overwrites them, else transformers' normal(0, 0.02). */
export interface BuildOptions {
  readonly random: boolean;
  readonly seed?: number;
}

class Builder {
  private n = 0;
  constructor(
    readonly c: HfTextConfig,
    readonly o: BuildOptions,
  ) {}

  init(head = false): ReturnType<typeof tfl.initializers.zeros> {
    if (!this.o.random && !head) return tfl.initializers.zeros();
    return tfl.initializers.randomNormal({
      stddev: 0.02,
      seed: this.o.seed === undefined ? undefined : this.o.seed + this.n++,
    });
  }

  input(name: string): Sym {
    return tfl.input({ shape: [null], dtype: 'int32', name });
  }

  dense(
    name: string,
    units: number,
    x: Sym,
    opts: { activation?: string; useBias?: boolean; head?: boolean } = {},
  ): Sym {
    return tfl.layers
      .dense({
        name,
        units,
        useBias: opts.useBias ?? true,
        activation: opts.activation as 'linear' | undefined,
        kernelInitializer: this.init(opts.head),
      })
      .apply(x) as Sym;
  }

  embedding(name: string, inputDim: number, x: Sym): Sym {
    return tfl.layers
      .embedding({ name, inputDim, outputDim: this.c.hidden, embeddingsInitializer: this.init() })
      .apply(x) as Sym;
  }

  positions(name: string, x: Sym): Sym {
    return new PositionEmbedding({ name, maxLength: this.c.maxPositions, stddev: 0.02, seed: this.o.seed }).apply(
      x,
    ) as Sym;
  }

  ln(name: string, x: Sym): Sym {
    return new LayerNorm({ name, epsilon: this.c.epsilon }).apply(x) as Sym;
  }

  add(name: string, a: Sym, b: Sym): Sym {
    return tfl.layers.add({ name }).apply([a, b]) as Sym;
  }

  attention(name: string, inputs: Sym[], causal: boolean): Sym {
    const fused = inputs.length === 2;
    return new ScaledDotProductAttention({ name, numHeads: this.c.heads, causal, fused, masked: true }).apply(
      inputs,
    ) as Sym;
  }
}

function gpt2(b: Builder): HfTextGraph {
  const c = b.c;
  const arch = c.architecture;
  const prefix = arch === 'GPT2Model' ? '' : 'transformer.';
  const ids = b.input('input_ids');
  const mask = b.input('attention_mask');
  let h = b.positions(`${prefix}wpe`, b.embedding(`${prefix}wte`, c.vocabSize, ids));
  const conv1d = new Set<string>();
  for (let i = 0; i < c.layers; i++) {
    const n = `${prefix}h.${i}`;
    for (const m of ['attn.c_attn', 'attn.c_proj', 'mlp.c_fc', 'mlp.c_proj']) conv1d.add(`${n}.${m}`);
    const qkv = b.dense(`${n}.attn.c_attn`, 3 * c.hidden, b.ln(`${n}.ln_1`, h));
    const context = b.attention(`${n}.attn.sdpa`, [qkv, mask], true);
    h = b.add(`${n}.add_1`, h, b.dense(`${n}.attn.c_proj`, c.hidden, context));
    const mlp = b.dense(`${n}.mlp.c_fc`, c.inner, b.ln(`${n}.ln_2`, h), { activation: c.activation });
    h = b.add(`${n}.add_2`, h, b.dense(`${n}.mlp.c_proj`, c.hidden, mlp));
  }
  h = b.ln(`${prefix}ln_f`, h);
  const heads = new Set<string>();
  let output = h;
  if (arch === 'GPT2LMHeadModel') {
    output = b.dense('lm_head', c.vocabSize, h, { useBias: false, head: true });
    heads.add('lm_head');
  } else if (arch === 'GPT2ForSequenceClassification') {
    const pooled = new TokenPooling({ name: 'pool', mode: 'last', padTokenId: c.padTokenId }).apply([h, ids]) as Sym;
    output = b.dense('score', c.numLabels, pooled, { useBias: false, head: true });
    heads.add('score');
  }
  const model = tfl.model({ inputs: [ids, mask], outputs: output, name: arch });
  return { model, prefix, familyPrefix: 'transformer.', conv1d, heads };
}

function bert(b: Builder): HfTextGraph {
  const c = b.c;
  const cls = c.architecture === 'BertForSequenceClassification';
  const p = cls ? 'bert.' : '';
  const ids = b.input('input_ids');
  const mask = b.input('attention_mask');
  const types = b.input('token_type_ids');
  const words = b.positions(
    `${p}embeddings.position_embeddings`,
    b.embedding(`${p}embeddings.word_embeddings`, c.vocabSize, ids),
  );
  const typed = b.add(
    `${p}embeddings.add`,
    words,
    b.embedding(`${p}embeddings.token_type_embeddings`, c.typeVocabSize, types),
  );
  let h = b.ln(`${p}embeddings.LayerNorm`, typed);
  for (let i = 0; i < c.layers; i++) {
    const n = `${p}encoder.layer.${i}`;
    const [q, k, v] = ['query', 'key', 'value'].map((part) => b.dense(`${n}.attention.self.${part}`, c.hidden, h));
    const context = b.attention(`${n}.attention.self.sdpa`, [q!, k!, v!, mask], false);
    const attn = b.dense(`${n}.attention.output.dense`, c.hidden, context);
    h = b.ln(`${n}.attention.output.LayerNorm`, b.add(`${n}.attention.output.add`, attn, h));
    const mid = b.dense(`${n}.intermediate.dense`, c.inner, h, { activation: c.activation });
    const out = b.dense(`${n}.output.dense`, c.hidden, mid);
    h = b.ln(`${n}.output.LayerNorm`, b.add(`${n}.output.add`, out, h));
  }
  const first = new TokenPooling({ name: `${p}pooler.first_token`, mode: 'first' }).apply(h) as Sym;
  const pooled = b.dense(`${p}pooler.dense`, c.hidden, first, { activation: 'tanh' });
  const heads = new Set<string>();
  const outputs = cls ? b.dense('classifier', c.numLabels, pooled, { head: true }) : [h, pooled];
  if (cls) heads.add('classifier');
  const model = tfl.model({ inputs: [ids, mask, types], outputs, name: c.architecture });
  return { model, prefix: p, familyPrefix: 'bert.', conv1d: new Set(), heads };
}

function distilbert(b: Builder): HfTextGraph {
  const c = b.c;
  const cls = c.architecture === 'DistilBertForSequenceClassification';
  const p = cls ? 'distilbert.' : '';
  const ids = b.input('input_ids');
  const mask = b.input('attention_mask');
  const words = b.embedding(`${p}embeddings.word_embeddings`, c.vocabSize, ids);
  let h = b.ln(`${p}embeddings.LayerNorm`, b.positions(`${p}embeddings.position_embeddings`, words));
  for (let i = 0; i < c.layers; i++) {
    const n = `${p}transformer.layer.${i}`;
    const [q, k, v] = ['q_lin', 'k_lin', 'v_lin'].map((part) => b.dense(`${n}.attention.${part}`, c.hidden, h));
    const context = b.attention(`${n}.attention.sdpa`, [q!, k!, v!, mask], false);
    const attn = b.dense(`${n}.attention.out_lin`, c.hidden, context);
    h = b.ln(`${n}.sa_layer_norm`, b.add(`${n}.attention.add`, attn, h));
    const mid = b.dense(`${n}.ffn.lin1`, c.inner, h, { activation: c.activation });
    const out = b.dense(`${n}.ffn.lin2`, c.hidden, mid);
    h = b.ln(`${n}.output_layer_norm`, b.add(`${n}.ffn.add`, out, h));
  }
  const heads = new Set<string>();
  let output = h;
  if (cls) {
    const first = new TokenPooling({ name: 'pool', mode: 'first' }).apply(h) as Sym;
    const pre = b.dense('pre_classifier', c.hidden, first, { activation: 'relu', head: true });
    output = b.dense('classifier', c.numLabels, pre, { head: true });
    heads.add('pre_classifier').add('classifier');
  }
  const model = tfl.model({ inputs: [ids, mask], outputs: output, name: c.architecture });
  return { model, prefix: p, familyPrefix: 'distilbert.', conv1d: new Set(), heads };
}

/** Builds the layer graph of `config.architecture` (weights initialised, not loaded). */
export function buildHfTextGraph(config: HfTextConfig, options: BuildOptions): HfTextGraph {
  const b = new Builder(config, options);
  return config.family === 'gpt2' ? gpt2(b) : config.family === 'bert' ? bert(b) : distilbert(b);
}
