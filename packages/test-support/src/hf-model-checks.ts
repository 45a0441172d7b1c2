// Checks that the Hugging Face model tests of several packages (text in @tfjs-lora/nlp, vision in
// @tfjs-lora/vision) share: a checkpoint's outputs against its reference, a PEFT adapter applied to a loaded
// model, a new head's trunk against the checkpoint. Each package passes @tfjs-lora/core's functions (this
// package does not depend on core) and its own comparison with a fixture's reference.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

/** What {@link hfModelChecks} needs from a package's tests. */
export interface HfModelCheckDeps<A extends { dispose(): void }> {
  /** @tfjs-lora/core's `loadPretrained`. */
  loadPretrained(source: string, options?: Record<string, unknown>): Promise<unknown>;
  /** @tfjs-lora/core's `loadPeftAdapter`. */
  loadPeftAdapter(source: string): Promise<A>;
  /** @tfjs-lora/core's `applyLora`. */
  applyLora(model: tfl.LayersModel, adapter: NoInfer<A>): { readonly model: tfl.LayersModel; dispose(): void };
  /** The package's fixture folder of a name, or a file in it (`hfFixture`). */
  fixture(name: string, ...rest: string[]): string;
  /** The package's max difference of the model's output to the fixture's reference output `key` (`'logits'`). */
  diffToReference(model: tfl.LayersModel, fixture: string, key?: string): Promise<number>;
}

/** The shared checks, bound to one package's {@link HfModelCheckDeps}. */
export interface HfModelChecks {
  /** The package's `fixture` (see {@link HfModelCheckDeps}). */
  fixture(name: string, ...rest: string[]): string;
  /** The package's `diffToReference` (see {@link HfModelCheckDeps}). */
  outputDiff(model: tfl.LayersModel, fixture: string, key?: string): Promise<number>;
  /** `loadPretrained(source, options)`, as the LayersModel the Hugging Face formats build. */
  load(source: string, options?: Record<string, unknown>): Promise<tfl.LayersModel>;
  /** Loads the fixture's checkpoint folder and returns its output's max difference to the reference (the model is disposed). */
  checkpointDiff(fixture: string): Promise<number>;
  /**
   * Applies the PEFT adapter at `adapterSource` (a folder or URL) to `model` and returns the LoRA model's max
   * difference to the reference output `key` (default `'logits_lora'`); the adapter and LoRA model are disposed.
   */
  adapterDiff(model: tfl.LayersModel, adapterSource: string, fixture: string, key?: string): Promise<number>;
  /**
   * Max |Δ| between the first weight of `model`'s layer `${prefix}.${layer}` and of layer `layer` in the
   * fixture's checkpoint as saved (loaded here, disposed): 0 when a model with a new head took its trunk from it.
   */
  trunkDiff(model: tfl.LayersModel, fixture: string, prefix: string, layer: string): Promise<number>;
}

/** Max |a − b| of two tensors of one shape, read asynchronously. */
async function maxAbs(a: tf.Tensor, b: tf.Tensor): Promise<number> {
  if (!tf.util.arraysEqual(a.shape, b.shape)) throw new Error(`shape [${a.shape}] vs [${b.shape}]`);
  const d = tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))));
  const [v] = await d.data();
  d.dispose();
  return v!;
}

/** The {@link HfModelChecks} of one package. */
export function hfModelChecks<A extends { dispose(): void }>(deps: HfModelCheckDeps<A>): HfModelChecks {
  const load = async (source: string, options: Record<string, unknown> = {}): Promise<tfl.LayersModel> =>
    (await deps.loadPretrained(source, options)) as tfl.LayersModel;
  return {
    fixture: deps.fixture,
    outputDiff: deps.diffToReference,
    load,
    async checkpointDiff(fixture) {
      const model = await load(deps.fixture(fixture));
      try {
        return await deps.diffToReference(model, fixture);
      } finally {
        model.dispose();
      }
    },
    async adapterDiff(model, adapterSource, fixture, key = 'logits_lora') {
      const adapter = await deps.loadPeftAdapter(adapterSource);
      const lm = deps.applyLora(model, adapter);
      adapter.dispose();
      try {
        return await deps.diffToReference(lm.model, fixture, key);
      } finally {
        lm.dispose();
      }
    },
    async trunkDiff(model, fixture, prefix, layer) {
      const base = await load(deps.fixture(fixture));
      try {
        return await maxAbs(
          model.getLayer(`${prefix}.${layer}`).getWeights()[0]!,
          base.getLayer(layer).getWeights()[0]!,
        );
      } finally {
        base.dispose();
      }
    },
  };
}
