// The text task in the worker: the tiny Moby Dick character LM (served from this app) adapted with LoRA
// to the style of State of the Union speeches (a text file written at build time), and samples with the
// adapter on and off.
import { CharTokenizer, generateAsync, loadMobyDickLM, perplexityAsync, trainLanguageModel } from '@tfjs-lora/nlp';
import type { DataManifest, TrainResult, TrainSettings, WorkerEvent } from '../protocol.js';
import { AdapterSet } from './adapters.js';
import { lossEnds } from './loss-ends.js';

/** Prompt of the samples. */
export const SAMPLE_PROMPT = 'My fellow Americans, ';

/** The character LM with its adapters and the speech text. */
export class TextTask {
  private ids: Int32Array | null = null;
  private readonly tokenizer = new CharTokenizer();

  private constructor(
    readonly origin: string,
    readonly manifest: DataManifest,
    readonly adapters: AdapterSet,
  ) {}

  static async load(origin: string, manifest: DataManifest): Promise<TextTask> {
    if (!manifest.text.available || !manifest.text.file)
      throw new Error(`The text task is not in this build: ${manifest.text.reason ?? 'no text data'}`);
    const { model } = await loadMobyDickLM(`${origin}/models/moby-dick-char/`);
    return new TextTask(origin, manifest, new AdapterSet('text', model));
  }

  private async text(): Promise<Int32Array> {
    if (!this.ids)
      this.ids = this.tokenizer.encode(await (await fetch(`${this.origin}/${this.manifest.text.file}`)).text());
    return this.ids;
  }

  /** Samples with the adapter off and on (same seed; each step's logits read with await). */
  async sample(prompt: string, tokens: number, seed: number): Promise<{ off: string; on: string; prompt: string }> {
    const lora = this.adapters.lora;
    this.adapters.unmerge();
    const off = lora
      ? await generateAsync(lora, prompt, { adapter: null, maxNewTokens: tokens, seed })
      : await generateAsync(this.adapters.base, prompt, { maxNewTokens: tokens, seed });
    const on = lora ? await generateAsync(lora, prompt, { maxNewTokens: tokens, seed }) : off;
    return { off, on, prompt };
  }

  /** Trains a new LoRA adapter on the speeches; the loss of every step goes to `emit`. */
  async train(s: TrainSettings, emit: (e: WorkerEvent) => void, stopped: () => boolean): Promise<TrainResult> {
    const ids = await this.text();
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
    const basePpl = await this.adapters.withBase((m) =>
      perplexityAsync(m, held, { length: 64, maxWindows: 16, batchSize: 8 }),
    );
    emit({ event: 'log', message: `base perplexity on held-out speeches: ${basePpl.toFixed(2)}` });
    const losses: number[] = [];
    let halted = false;
    const start = performance.now();
    const trainIds = ids.subarray(0, Math.floor(ids.length * 0.9));
    await trainLanguageModel(lora.model, trainIds, {
      steps: s.steps,
      batchSize: s.batchSize,
      length: 64,
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
    const ppl = await perplexityAsync(lora.model, held, { length: 64, maxWindows: 16, batchSize: 8 });
    emit({ event: 'log', message: `perplexity with the adapter: ${ppl.toFixed(2)} (base ${basePpl.toFixed(2)})` });
    const samples = await this.sample(SAMPLE_PROMPT, 100, 1);
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
}

class StopTraining extends Error {
  override readonly name = 'StopTraining';
}
