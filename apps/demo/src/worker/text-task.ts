// The text task in the worker: a base language model adapted with LoRA to the style of State of the Union
// speeches (a text file written at build time), with samples with the adapter on and off. The base is the
// tiny Moby Dick character LM served from this app, or a Hugging Face causal LM (GPT2LMHeadModel) the user
// loads from files or a URL (hf://org/name too) with its tokenizer.json.
import type * as tfl from '@tensorflow/tfjs-layers';
import {
  CharTokenizer,
  contextLength,
  generateAsync,
  loadMobyDickLM,
  loadTokenizer,
  perplexityAsync,
  trainLanguageModel,
  type HfTokenizer,
} from '@tfjs-lora/nlp';
import type { DataManifest, TextModelInfo, TrainResult, TrainSettings, WorkerEvent } from '../protocol.js';
import { AdapterSet } from './adapters.js';
import { loadByom } from './byom-model.js';
import { lossEnds } from './loss-ends.js';

/** Prompt of the samples. */
export const SAMPLE_PROMPT = 'My fellow Americans, ';

/** Inputs a causal LM of the 'hf-text' format may take (nlp's lmInputs fills the masks). */
const LM_INPUTS = new Set(['input_ids', 'attention_mask', 'token_type_ids']);

/** Where a Hugging Face model's tokenizer.json is: the files themselves, or the folder of a URL. */
function tokenizerSource(source: File[] | string): File[] | string {
  return typeof source === 'string' ? source.replace(/[^/]*\.json$/, '') : source;
}

/** A base language model, its tokenizer and adapters, and the speech text in its tokens. */
export class TextTask {
  private ids: Int32Array | null = null;

  private constructor(
    readonly origin: string,
    readonly manifest: DataManifest,
    readonly adapters: AdapterSet,
    readonly tokenizer: CharTokenizer | HfTokenizer,
    private readonly description: Omit<TextModelInfo, 'textTokens' | 'parameters' | 'context'>,
  ) {}

  private static requireText(manifest: DataManifest): void {
    if (!manifest.text.available || !manifest.text.file)
      throw new Error(`The text task is not in this build: ${manifest.text.reason ?? 'no text data'}`);
  }

  /** The built-in base: the Moby Dick character LM. */
  static async load(origin: string, manifest: DataManifest): Promise<TextTask> {
    TextTask.requireText(manifest);
    const { model } = await loadMobyDickLM(`${origin}/models/moby-dick-char/`);
    const modules = ['query', 'key', 'value', 'output', 'fc_in', 'fc_out', 'wte'];
    return new TextTask(origin, manifest, new AdapterSet('text', model), new CharTokenizer(), {
      source: 'builtin',
      name: 'character LM (Moby Dick)',
      vocabSize: new CharTokenizer().vocabSize,
      modules,
      defaultTargets: ['query', 'value'],
    });
  }

  /**
   * A Hugging Face causal LM (config.json + model.safetensors, or its index and shards, + tokenizer.json) from
   * files or a URL, through core's loadPretrained ('hf-text' format) and nlp's loadTokenizer.
   */
  static async fromPretrained(origin: string, manifest: DataManifest, source: File[] | string): Promise<TextTask> {
    TextTask.requireText(manifest);
    const loaded = await loadByom(source);
    const what = typeof source === 'string' ? source : source.map((f) => f.name).join(', ');
    const model = loaded.model as tfl.LayersModel;
    try {
      const out = loaded.info.outputs[0]?.shape ?? [];
      const inputs = loaded.info.inputs.map((t) => t.name);
      if (loaded.graph || out.length !== 3 || !inputs.includes('input_ids') || inputs.some((n) => !LM_INPUTS.has(n)))
        throw new Error(
          `The text task continues text, so it needs a causal language model (GPT2LMHeadModel) whose output is logits [batch, time, vocabulary]; ${what} is a ${loaded.info.format} ${loaded.info.kind} with inputs ${inputs.join(', ')} and output [${out.map((d) => d ?? '?').join(', ')}]. Load it in "Bring your model" instead.`,
        );
      let tokenizer = loaded.tokenizer;
      if (!tokenizer) {
        try {
          tokenizer = await loadTokenizer(tokenizerSource(source));
        } catch (e) {
          throw new Error(
            `The text task needs the model's tokenizer.json (beside config.json) to turn the speeches into tokens; none was found with ${what}: ${(e as Error).message}`,
            { cause: e },
          );
        }
      }
      const vocab = out[2]!;
      if (tokenizer.vocabSize > vocab)
        throw new Error(
          `The tokenizer has ${tokenizer.vocabSize} ids but the model's output has ${vocab}: they do not belong together.`,
        );
      const modules = [...new Set(loaded.info.targets.map((t) => t.split('.').pop()!))];
      const defaults = ['c_attn', 'query', 'value', 'q_proj', 'v_proj', 'q_lin', 'v_lin'].filter((m) =>
        modules.includes(m),
      );
      const meta = model.getUserDefinedMetadata() as { huggingFace?: { architecture?: string } } | undefined;
      const architecture = meta?.huggingFace?.architecture ?? loaded.info.format;
      return new TextTask(origin, manifest, new AdapterSet('text', model), tokenizer, {
        source: 'hf',
        name: `${architecture} (${what})`,
        vocabSize: vocab,
        modules,
        defaultTargets: defaults.length > 0 ? defaults : modules.slice(0, 1),
      });
    } catch (e) {
      model.dispose();
      throw e;
    }
  }

  /** The speeches in this model's tokens (encoded once). */
  private async text(): Promise<Int32Array> {
    if (!this.ids) {
      const text = await (await fetch(`${this.origin}/${this.manifest.text.file}`)).text();
      const t = this.tokenizer;
      this.ids =
        t instanceof CharTokenizer ? t.encode(text) : Int32Array.from(t.encode(text, { addSpecialTokens: false }).ids);
    }
    return this.ids;
  }

  /** Tokens per training and evaluation window: 64, or less when the model's position table is shorter. */
  private get window(): number {
    return Math.min(64, contextLength(this.adapters.base));
  }

  /** What the page shows about the base model. */
  async info(): Promise<TextModelInfo> {
    const parameters = this.adapters.base.countParams();
    return {
      ...this.description,
      context: contextLength(this.adapters.base),
      textTokens: (await this.text()).length,
      parameters,
    };
  }

  /** Samples with the adapter off and on (same seed; each step's logits read with await). */
  async sample(prompt: string, tokens: number, seed: number): Promise<{ off: string; on: string; prompt: string }> {
    const lora = this.adapters.lora;
    const tokenizer = this.tokenizer;
    this.adapters.unmerge();
    const off = lora
      ? await generateAsync(lora, prompt, { adapter: null, maxNewTokens: tokens, seed, tokenizer })
      : await generateAsync(this.adapters.base, prompt, { maxNewTokens: tokens, seed, tokenizer });
    const on = lora ? await generateAsync(lora, prompt, { maxNewTokens: tokens, seed, tokenizer }) : off;
    return { off, on, prompt };
  }

  /** Trains a new LoRA adapter on the speeches; the loss of every step goes to `emit`. */
  async train(s: TrainSettings, emit: (e: WorkerEvent) => void, stopped: () => boolean): Promise<TrainResult> {
    const ids = await this.text();
    const length = this.window;
    const lora = await this.adapters.create(
      s.adapterName,
      { r: s.r, loraAlpha: s.loraAlpha, targetModules: s.targets },
      {
        name: s.adapterName,
        task: 'text',
        domain: 'sotu',
        r: s.r,
        loraAlpha: s.loraAlpha,
        targets: s.targets,
        source: 'trained',
      },
    );
    const held = ids.subarray(Math.floor(ids.length * 0.9));
    const evaluation = { length, maxWindows: 16, batchSize: 8 };
    const basePpl = await this.adapters.withBase((m) => perplexityAsync(m, held, evaluation));
    emit({ event: 'log', message: `base perplexity on held-out speeches: ${basePpl.toFixed(2)}` });
    const losses: number[] = [];
    let halted = false;
    const start = performance.now();
    const trainIds = ids.subarray(0, Math.floor(ids.length * 0.9));
    await trainLanguageModel(lora.model, trainIds, {
      steps: s.steps,
      batchSize: s.batchSize,
      length,
      learningRate: s.learningRate,
      onStep: async (step, loss) => {
        losses.push(loss);
        emit({ event: 'step', step, epoch: 1, loss });
        await new Promise((r) => setTimeout(r, 0));
        if (stopped() && !halted) {
          halted = true;
          throw new StopTraining();
        }
      },
    }).catch((e: unknown) => {
      if (!(e instanceof StopTraining)) throw e;
    });
    const ppl = await perplexityAsync(lora.model, held, evaluation);
    emit({ event: 'log', message: `perplexity with the adapter: ${ppl.toFixed(2)} (base ${basePpl.toFixed(2)})` });
    const samples = await this.sample(SAMPLE_PROMPT, this.tokenizer instanceof CharTokenizer ? 100 : 40, 1);
    const { firstLoss, lastLoss } = lossEnds(losses);
    return {
      adapter: this.adapters.infos.get(s.adapterName)!,
      parameters: lora.trainableParameters(),
      basePerplexity: basePpl,
      perplexity: ppl,
      firstLoss,
      lastLoss,
      seconds: (performance.now() - start) / 1000,
      stopped: halted,
      samples,
    };
  }

  /** Frees the base model and its adapters. */
  dispose(): void {
    this.adapters.lora?.dispose();
    this.adapters.base.dispose();
  }
}

class StopTraining extends Error {
  override readonly name = 'StopTraining';
}
