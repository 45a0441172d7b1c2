// The vision task in the worker: the project's pretrained MNIST CNN (served from this app), the domain
// data files written at build time, LoRA training with per-step progress, accuracy, predictions.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { seededRandom } from '@tfjs-lora/core/random';
import '@tfjs-lora/vision'; // registers the Conv2D layer kind
import { decodeImageSet, type ByteImageSet } from '../data/image-set.js';
import type { DataManifest, TrainResult, TrainSettings, WorkerEvent } from '../protocol.js';
import { AdapterSet } from './adapters.js';
import { lossEnds } from './loss-ends.js';

const PIXELS = 784;

/** Accuracy and mean cross-entropy on a test subset. */
export interface Evaluation {
  accuracy: number;
  loss: number;
}

/** The MNIST CNN with its adapters and the domains' data. */
export class VisionTask {
  private readonly sets = new Map<string, Promise<{ train: ByteImageSet; test: ByteImageSet }>>();
  private readonly baseEvaluations = new Map<string, Evaluation>();

  private constructor(
    readonly origin: string,
    readonly manifest: DataManifest,
    readonly adapters: AdapterSet,
  ) {}

  static async load(origin: string, manifest: DataManifest): Promise<VisionTask> {
    const base = await tfl.loadLayersModel(`${origin}/models/mnist-cnn/model.json`);
    return new VisionTask(origin, manifest, new AdapterSet('vision', base));
  }

  /** Train and test sets of a domain (fetched once). */
  data(domain: string): Promise<{ train: ByteImageSet; test: ByteImageSet }> {
    let p = this.sets.get(domain);
    if (!p) {
      const info = this.manifest.domains.find((d) => d.id === domain);
      if (!info?.available || !info.train || !info.test)
        throw new Error(`Domain '${domain}' is not in this build: ${info?.reason ?? 'unknown domain'}`);
      const get = async (file: string) =>
        decodeImageSet(new Uint8Array(await (await fetch(`${this.origin}/${file}`)).arrayBuffer()));
      p = Promise.all([get(info.train), get(info.test)]).then(([train, test]) => ({ train, test }));
      this.sets.set(domain, p);
    }
    return p;
  }

  /** Images `from..from+count` as [n, 28, 28, 1] in [0, 1] and one-hot labels. */
  batch(set: ByteImageSet, ids: ArrayLike<number>): { xs: tf.Tensor4D; ys: tf.Tensor2D } {
    const pixels = new Float32Array(ids.length * PIXELS);
    const labels = new Int32Array(ids.length);
    for (let i = 0; i < ids.length; i++) {
      const src = set.pixels.subarray(ids[i]! * PIXELS, (ids[i]! + 1) * PIXELS);
      for (let j = 0; j < PIXELS; j++) pixels[i * PIXELS + j] = src[j]! / 255;
      labels[i] = set.labels[ids[i]!]!;
    }
    return tf.tidy(() => ({
      xs: tf.tensor4d(pixels, [ids.length, 28, 28, 1]),
      ys: tf.cast(tf.oneHot(tf.tensor1d(labels, 'int32'), 10), 'float32') as tf.Tensor2D,
    }));
  }

  /** Accuracy and mean cross-entropy of `model` on the first `count` test images. */
  async evaluate(model: tfl.LayersModel, set: ByteImageSet, count: number): Promise<Evaluation> {
    const n = Math.min(count, set.count);
    let [correct, loss] = [0, 0];
    for (let s = 0; s < n; s += 250) {
      const ids = Array.from({ length: Math.min(250, n - s) }, (_, i) => s + i);
      const { xs, ys } = this.batch(set, ids);
      const sums = tf.tidy(() => {
        const p = model.predict(xs) as tf.Tensor;
        const hits = tf.sum(tf.cast(tf.equal(tf.argMax(p, -1), tf.argMax(ys, -1)), 'float32'));
        const nll = tf.neg(tf.sum(tf.mul(ys, tf.log(tf.add(p, 1e-7)))));
        return tf.stack([hits, nll]);
      });
      const [h, l] = await sums.data();
      correct += h!;
      loss += l!;
      tf.dispose([xs, ys, sums]);
    }
    return { accuracy: correct / n, loss: loss / n };
  }

  /** The base model's accuracy and loss on a domain (cached per test size). */
  async baseEvaluation(domain: string, testSize: number): Promise<Evaluation> {
    const key = `${domain}:${testSize}`;
    const cached = this.baseEvaluations.get(key);
    if (cached !== undefined) return cached;
    const { test } = await this.data(domain);
    const e = await this.adapters.withBase((m) => this.evaluate(m, test, testSize));
    this.baseEvaluations.set(key, e);
    return e;
  }

  /** Trains a new LoRA adapter; progress through `emit`, stops early when `stopped()` turns true. */
  async train(s: TrainSettings, emit: (e: WorkerEvent) => void, stopped: () => boolean): Promise<TrainResult> {
    const { train, test } = await this.data(s.domain);
    const base = await this.baseEvaluation(s.domain, s.testSize);
    emit({ event: 'eval', step: 0, accuracy: base.accuracy, label: 'base model' });
    const lora = await this.adapters.create(
      s.adapterName,
      { r: s.r, loraAlpha: s.loraAlpha, targetModules: s.targets },
      {
        name: s.adapterName,
        task: 'vision',
        domain: s.domain,
        r: s.r,
        loraAlpha: s.loraAlpha,
        targets: s.targets,
        source: 'trained',
      },
    );
    const model = lora.model;
    const optimizer = tf.train.adam(s.learningRate);
    model.compile({ optimizer, loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
    const n = Math.min(s.trainSize, train.count);
    const steps = Math.ceil(n / s.batchSize);
    let step = 0;
    const losses: number[] = [];
    const start = performance.now();
    let halted = false;
    let after = base;
    for (let epoch = 1; epoch <= s.epochs && !halted; epoch++) {
      const order = shuffled(n, epoch);
      for (let i = 0; i < steps; i++) {
        if (stopped()) {
          halted = true;
          break;
        }
        const { xs, ys } = this.batch(train, order.subarray(i * s.batchSize, (i + 1) * s.batchSize));
        const [loss, acc] = (await model.trainOnBatch(xs, ys)) as number[];
        tf.dispose([xs, ys]);
        step++;
        losses.push(loss!);
        emit({ event: 'step', step, epoch, loss: loss!, accuracy: acc });
        await new Promise((r) => setTimeout(r, 0)); // let a 'stop' message in
      }
      after = await this.evaluate(model, test, s.testSize);
      emit({ event: 'eval', step, accuracy: after.accuracy, label: `epoch ${epoch}` });
    }
    optimizer.dispose();
    const info = { ...this.adapters.infos.get(s.adapterName)!, accuracy: after.accuracy };
    this.adapters.infos.set(s.adapterName, info);
    const { firstLoss, lastLoss } = lossEnds(losses);
    return {
      adapter: info,
      parameters: lora.trainableParameters(),
      baseAccuracy: base.accuracy,
      accuracy: after.accuracy,
      baseTestLoss: base.loss,
      testLoss: after.loss,
      firstLoss,
      lastLoss,
      seconds: (performance.now() - start) / 1000,
      stopped: halted,
    };
  }

  /** Class probabilities of one 28×28 image with the adapter off and on (read with await). */
  async predict(pixels: Float32Array): Promise<{ off: number[]; on: number[]; adapter: string | null }> {
    const run = async (m: tfl.LayersModel): Promise<number[]> => {
      const p = tf.tidy(() => m.predict(tf.tensor4d(pixels, [1, 28, 28, 1])) as tf.Tensor);
      try {
        return Array.from(await p.data());
      } finally {
        p.dispose();
      }
    };
    const off = await this.adapters.withBase(run);
    const on = this.adapters.lora ? await run(this.adapters.model) : off;
    return { off, on, adapter: this.adapters.active };
  }

  /**
   * Mean latency (ms) of one predict call on a batch of test images, in the current merge state: one
   * warm-up call (shader compiles, caches), then up to `runs` timed calls, stopping after the first one
   * that ends past `budgetMs` (a 64-image batch takes seconds on a CPU-emulated GPU such as SwiftShader).
   */
  async latency(domain: string, batch = 64, runs = 8, budgetMs = 1500): Promise<number> {
    const { test } = await this.data(domain);
    const { xs, ys } = this.batch(
      test,
      Array.from({ length: batch }, (_, i) => i),
    );
    const once = async () => {
      const y = this.adapters.model.predict(xs) as tf.Tensor;
      await y.data();
      y.dispose();
    };
    try {
      await once();
      const start = performance.now();
      let n = 0;
      while (n < runs && (n === 0 || performance.now() - start < budgetMs)) {
        await once();
        n++;
      }
      return (performance.now() - start) / n;
    } finally {
      tf.dispose([xs, ys]);
    }
  }
}

function shuffled(count: number, seed: number): Uint32Array {
  const next = seededRandom(seed);
  const order = Uint32Array.from({ length: count }, (_, i) => i);
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}
