// "Bring your model": trains LoRA on a model loaded with `loadPretrained` (byom-model.ts) with core's
// `createTrainStep`, on a task that fits its input: the demo's digits resized to its image input (its own
// outputs, digits below its class count), or two-class token windows (speech text vs random tokens).
// Every read is awaited; nothing reads synchronously.
import type { GraphModel } from '@tensorflow/tfjs-converter';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { applyLora, createTrainStep, type LossFunction } from '@tfjs-lora/core';
import { encodePeftAdapterAsync } from '@tfjs-lora/core/peft';
import { peftDownload } from './peft-download.js';
import type { LoraGraphModel } from '@tfjs-lora/graph';
import { decodeImageSet } from '../data/image-set.js';
import type { ByomSettings, ByomTrainResult, DataManifest, WorkerEvent } from '../protocol.js';
import { loadByom, type LoadedModel } from './byom-model.js';
import { seededRandom } from '@tfjs-lora/core/random';

type Lora = { predict(x: tf.Tensor | tf.Tensor[]): tf.Tensor | tf.Tensor[]; dispose(): void };

/** A dataset for one model: inputs (one tensor per model input), one-hot labels, and the classes scored. */
interface Dataset {
  x: tf.Tensor[];
  y: tf.Tensor;
  labels: Int32Array;
  classes: number;
  description: string;
}

/** The loaded model (re-loaded from its source before each run, so each run starts from the base). */
export class ByomTask {
  private loaded: LoadedModel | null = null;
  private lora: (Lora & object) | null = null;
  private source: File[] | string | null = null;
  private adapterName = '';

  constructor(
    private readonly origin: string,
    private readonly manifest: DataManifest,
  ) {}

  /** Loads a model and describes it. */
  async load(source: File[] | string): Promise<LoadedModel['info']> {
    this.disposeModel();
    this.loaded = await loadByom(source);
    this.source = source;
    return this.loaded.info;
  }

  private disposeModel(): void {
    this.lora?.dispose();
    this.lora = null;
    if (this.loaded) (this.loaded.model as { dispose(): void }).dispose();
    this.loaded = null;
  }

  private async images(model: LoadedModel, n: number, offset: number): Promise<Dataset> {
    const input = model.info.inputs[0]!;
    const [, h, w, c] = input.shape.map((d) => d ?? 0) as [number, number, number, number];
    const out = model.info.outputs[0]!.shape.at(-1) ?? 0;
    if (out < 2)
      throw new Error(
        `Bring your model: expected a classifier output [batch, classes ≥ 2]; found ${JSON.stringify(model.info.outputs[0]!.shape)}.`,
      );
    const classes = Math.min(out, 10);
    const domain =
      this.manifest.domains.find((d) => d.available && d.drawable) ?? this.manifest.domains.find((d) => d.available);
    if (!domain?.train) throw new Error('Bring your model: no digit data in this build (see data/manifest.json).');
    const set = decodeImageSet(new Uint8Array(await (await fetch(`${this.origin}/${domain.train}`)).arrayBuffer()));
    const picked: number[] = [];
    for (let i = offset; i < set.count && picked.length < n; i++) if (set.labels[i]! < classes) picked.push(i);
    const size = set.rows * set.cols;
    const pixels = new Float32Array(picked.length * size);
    picked.forEach((i, k) =>
      pixels.set(
        Float32Array.from(set.pixels.subarray(i * size, (i + 1) * size), (p) => p / 255),
        k * size,
      ),
    );
    const labels = Int32Array.from(picked, (i) => set.labels[i]!);
    const x = tf.tidy(() => {
      let t: tf.Tensor4D = tf.tensor4d(pixels, [picked.length, set.rows, set.cols, 1]);
      if ((h || set.rows) !== set.rows || (w || set.cols) !== set.cols)
        t = tf.image.resizeBilinear(t, [h || set.rows, w || set.cols]);
      return (c || 1) > 1 ? tf.tile(t, [1, 1, 1, c]) : t;
    });
    const y = tf.oneHot(tf.tensor1d(labels, 'int32'), out);
    return {
      x: [x],
      y,
      labels,
      classes,
      description: `${domain.label} digits 0–${classes - 1}, resized to ${h || set.rows}×${w || set.cols}×${c || 1}`,
    };
  }

  private async tokens(model: LoadedModel, n: number, seed: number): Promise<Dataset> {
    const out = model.info.outputs[0]!;
    if (out.shape.length !== 2 || (out.shape[1] ?? 0) < 2)
      throw new Error(
        `Bring your model: the token task needs a classifier output [batch, labels ≥ 2]; found ${JSON.stringify(out.shape)} (a language-model head is not trained here).`,
      );
    const m = model.model as tfl.LayersModel;
    const embedding = m.layers.find((l) => /Embedding/.test(l.getClassName()));
    const vocab = Number((embedding?.getConfig() as { inputDim?: number } | undefined)?.inputDim ?? 256);
    const time = Math.min(16, model.info.inputs[0]!.shape[1] ?? 16);
    if (!this.manifest.text.available || !this.manifest.text.file)
      throw new Error(`Bring your model: no text in this build: ${this.manifest.text.reason}`);
    const text = (await (await fetch(`${this.origin}/${this.manifest.text.file}`)).text()).slice(
      seed * 20_000,
      seed * 20_000 + 20_000,
    );
    const stream = model.tokenizer
      ? model.tokenizer.encode(text, { addSpecialTokens: false }).ids
      : Array.from(text, (ch) => ch.codePointAt(0)!);
    const ids = new Int32Array(n * time);
    const labels = new Int32Array(n);
    const random = seededRandom(seed + 1);
    for (let i = 0; i < n; i++) {
      labels[i] = i % 2; // 1: a window of speech text; 0: uniformly random tokens
      const start = Math.floor(random() * Math.max(1, stream.length - time));
      for (let t = 0; t < time; t++)
        ids[i * time + t] = labels[i] ? Number(stream[start + t] ?? 0) % vocab : Math.floor(random() * vocab);
    }
    const x = model.info.inputs.map((inp) =>
      /attention_mask/.test(inp.name)
        ? tf.ones([n, time], 'int32')
        : /token_type/.test(inp.name)
          ? tf.zeros([n, time], 'int32')
          : tf.tensor2d(ids, [n, time], 'int32'),
    );
    const y = tf.oneHot(tf.tensor1d(labels, 'int32'), out.shape[1]!);
    const how = model.tokenizer ? 'its tokenizer.json' : `character codes mod its vocabulary (${vocab})`;
    return { x, y, labels, classes: 2, description: `speech text vs random tokens, ${time} tokens (${how})` };
  }

  private static slice(d: Dataset, start: number, size: number): { x: tf.Tensor[]; y: tf.Tensor } {
    const n = d.y.shape[0];
    const len = Math.min(size, n - start);
    return { x: d.x.map((t) => tf.slice(t, start, len)), y: tf.slice(d.y, start, len) };
  }

  /** Argmax over the scored classes, batched, awaited. */
  private async accuracy(lora: Lora, d: Dataset): Promise<{ accuracy: number; probabilities: boolean }> {
    let right = 0;
    let probabilities = true;
    const n = d.labels.length;
    for (let s = 0; s < n; s += 64) {
      const batch = ByomTask.slice(d, s, 64);
      const out = tf.tidy(() => {
        const p = lora.predict(batch.x.length === 1 ? batch.x[0]! : batch.x);
        return (Array.isArray(p) ? p[0]! : p) as tf.Tensor2D;
      });
      const values = Float32Array.from(await out.data());
      const k = out.shape[1];
      for (let i = 0; i < out.shape[0]; i++) {
        const row = values.subarray(i * k, (i + 1) * k);
        let best = 0;
        for (let j = 1; j < d.classes; j++) if (row[j]! > row[best]!) best = j;
        if (best === d.labels[s + i]) right++;
        const sum = row.reduce((a, b) => a + b, 0);
        if (Math.abs(sum - 1) > 1e-3 || row.some((v) => v < 0)) probabilities = false;
      }
      tf.dispose([out, ...batch.x, batch.y]);
    }
    return { accuracy: right / n, probabilities };
  }

  /** Trains a fresh LoRA adapter on a freshly loaded copy of the model. */
  async train(
    s: ByomSettings,
    emit: (e: WorkerEvent) => void,
    stop: () => boolean,
  ): Promise<Omit<ByomTrainResult, 'tfBackend'>> {
    if (!this.source) throw new Error('Bring your model: load a model first.');
    await this.load(this.source);
    const model = this.loaded!;
    if (!model.info.task)
      throw new Error(
        `Bring your model: no task fits inputs ${JSON.stringify(model.info.inputs)} (expected an image [batch, h, w, c] or token ids [batch, time]).`,
      );
    const n = s.steps * s.batchSize;
    const [train, test] =
      model.info.task === 'image'
        ? await Promise.all([this.images(model, n, 0), this.images(model, 200, 2000)])
        : await Promise.all([this.tokens(model, n, 0), this.tokens(model, 200, 7)]);
    emit({
      event: 'log',
      message: `bring your model: ${model.info.format} ${model.info.kind}, task: ${train.description}`,
    });
    const config = { r: s.r, loraAlpha: s.loraAlpha, targetModules: s.targets };
    const opts = { adapterName: s.adapterName };
    const lora = (model.graph
      ? applyLora(model.model as GraphModel, config, opts)
      : applyLora(model.model as tfl.LayersModel, config, opts)) as unknown as Lora;
    this.lora = lora;
    this.adapterName = s.adapterName;
    const before = await this.accuracy(lora, test); // B = 0: the base model's accuracy
    const loss: LossFunction = before.probabilities
      ? (yt, yp) => tf.neg(tf.mean(tf.sum(tf.mul(yt, tf.log(tf.clipByValue(yp, 1e-7, 1))), -1)))
      : (yt, yp) => tf.losses.softmaxCrossEntropy(yt, yp);
    const optimizer = tf.train.adam(s.learningRate);
    const step = createTrainStep(lora as unknown as Parameters<typeof createTrainStep>[0], { optimizer, loss });
    const losses: number[] = [];
    const t0 = performance.now();
    try {
      for (let i = 0; i < s.steps && !stop(); i++) {
        const batch = ByomTask.slice(train, i * s.batchSize, s.batchSize);
        const l = await step(batch.x.length === 1 ? batch.x[0]! : batch.x, batch.y);
        tf.dispose([...batch.x, batch.y]);
        losses.push(l);
        emit({ event: 'byomStep', step: i + 1, loss: l });
      }
    } finally {
      optimizer.dispose();
    }
    const seconds = (performance.now() - t0) / 1000;
    const after = await this.accuracy(lora, test);
    tf.dispose([...train.x, train.y, ...test.x, test.y]);
    const ends = Math.max(1, Math.min(3, Math.floor(losses.length / 2)));
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const parameters = (
      lora as unknown as { trainableParameters(): ByomTrainResult['parameters'] }
    ).trainableParameters();
    return {
      task: train.description,
      classes: train.classes,
      baseAccuracy: before.accuracy,
      accuracy: after.accuracy,
      firstLoss: mean(losses.slice(0, ends)),
      lastLoss: mean(losses.slice(-ends)),
      parameters,
      seconds,
    };
  }

  /** The trained adapter as PEFT files. */
  async encode(): Promise<{ config: string; weights: Uint8Array }> {
    if (!this.lora) throw new Error('Bring your model: train an adapter first.');
    const files = await encodePeftAdapterAsync(this.lora as unknown as LoraGraphModel, {
      adapterName: this.adapterName,
    });
    return peftDownload(files);
  }
}
