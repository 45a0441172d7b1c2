// The PEFT `dora_conv2d` reference case (packages/test-support/fixtures/peft-cases/dora_conv2d, written by
// PEFT 0.21 with use_dora on a Conv2d): PEFT keeps the DoRA magnitude of a convolution as [1, out, 1, 1].
// Loaded through loadPeftAdapter: outputs with the adapter on and off, the gradients of A, B and the
// magnitude, the merge_and_unload kernel, and a re-save that gives PEFT's file byte for byte.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { applyLora, loadPeftAdapter, savePeftAdapter, type LoraModel } from '@tfjs-lora/core';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maxAbsDiff, peftCasePath, readSafetensorsFile } from '@tfjs-lora/test-support';
import { convFromTorch, convToTorch } from './index.js';

const DIR = peftCasePath('dora_conv2d');

const TOL = 1e-5;
const nchwToNhwc = (t: tf.Tensor) => tf.transpose(t, [0, 2, 3, 1]);
const nhwcToNchw = (t: tf.Tensor) => tf.transpose(t, [0, 3, 1, 2]);
/** |a − b| in units of the reference's magnitude (absolute below 1), as the conv2d case. */
const within = (ours: tf.Tensor, reference: tf.Tensor): number =>
  maxAbsDiff(ours, reference) /
  Math.max(
    1,
    tf.tidy(() => tf.max(tf.abs(reference)).dataSync()[0]!),
  );

interface ConvSpec {
  name: string;
  in_channels: number;
  out_channels: number;
  kernel_size: [number, number];
  bias: boolean;
}

describe('PEFT case dora_conv2d through loadPeftAdapter / savePeftAdapter (cpu)', () => {
  let spec: ConvSpec;
  let base: tfl.LayersModel;
  let lm: LoraModel;
  let io: Record<string, tf.Tensor>;
  let input: tf.Tensor;
  const key = 'base_model.model.conv';

  beforeAll(async () => {
    await tf.setBackend('cpu');
    spec = (JSON.parse(readFileSync(join(DIR, 'case.json'), 'utf8')) as { layers: ConvSpec[] }).layers[0]!;
    io = readSafetensorsFile(join(DIR, 'io.safetensors'));
    const weights = readSafetensorsFile(join(DIR, 'base.safetensors'));
    input = nchwToNhwc(io['input']!);
    base = tfl.sequential({
      layers: [
        tfl.layers.conv2d({
          name: spec.name,
          filters: spec.out_channels,
          kernelSize: spec.kernel_size,
          padding: 'same', // PyTorch padding 1 with a 3×3 kernel and stride 1
          useBias: spec.bias,
          inputShape: [input.shape[1]!, input.shape[2]!, spec.in_channels],
        }),
      ],
    });
    const kernel = convFromTorch(weights[`${spec.name}.weight`]!);
    base.getLayer(spec.name).setWeights([kernel, weights[`${spec.name}.bias`]!]);
    tf.dispose([kernel, ...Object.values(weights)]);
    const adapter = await loadPeftAdapter(join(DIR, 'adapter'));
    lm = applyLora(base, adapter);
    adapter.dispose();
  });

  afterAll(() => {
    lm.dispose();
    base.dispose();
    tf.dispose([input, ...Object.values(io)]);
  });

  it('loads the [1, out, 1, 1] magnitude as [out] and matches output and output_base', () => {
    const before = tf.memory().numTensors;
    const w = lm.loraLayers()[0]!.layer.weightsOf('default');
    expect(w.magnitude?.shape).toEqual([spec.out_channels]);
    tf.tidy(() => {
      expect(within(nhwcToNchw(lm.model.predict(input) as tf.Tensor), io['output']!)).toBeLessThan(TOL);
    });
    lm.withAdaptersDisabled(() =>
      tf.tidy(() => {
        expect(maxAbsDiff(nhwcToNchw(lm.model.predict(input) as tf.Tensor), io['output_base']!)).toBeLessThan(TOL);
      }),
    );
    expect(tf.memory().numTensors).toBe(before);
  });

  it('matches the gradients of lora_A, lora_B and the magnitude', () => {
    const before = tf.memory().numTensors;
    const { layer } = lm.loraLayers()[0]!;
    const w = layer.weightsOf('default');
    tf.tidy(() => {
      const upstream = nchwToNhwc(io['upstream']!);
      const vars = [w.loraA, w.loraB, w.magnitude!].map((v) => tf.engine().registeredVariables[v.name]!);
      const { grads } = tf.variableGrads(
        () => tf.sum(tf.mul(lm.model.apply(input, { training: true }) as tf.Tensor, upstream)) as tf.Scalar,
        vars,
      );
      const ours = {
        lora_A: layer.kind.toPeft(layer.layer, 'loraA', grads[w.loraA.name]!),
        lora_B: layer.kind.toPeft(layer.layer, 'loraB', grads[w.loraB.name]!),
        lora_magnitude_vector: layer.kind.dora!.magnitudeToPeft(layer.layer, grads[w.magnitude!.name]!),
      };
      for (const [name, g] of Object.entries(ours)) {
        expect(within(g, io[`grad.${key}.${name}.weight`]!), name).toBeLessThan(TOL);
      }
    });
    expect(tf.memory().numTensors).toBe(before);
  });

  it("re-saves PEFT's file byte for byte (magnitude [1, out, 1, 1])", async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'dora-conv2d-peft-'));
    try {
      await savePeftAdapter(lm, tmp);
      const saved = readSafetensorsFile(join(tmp, 'adapter_model.safetensors'));
      expect(saved[`${key}.lora_magnitude_vector`]!.shape).toEqual([1, spec.out_channels, 1, 1]);
      tf.dispose(Object.values(saved));
      expect(
        Buffer.compare(
          readFileSync(join(tmp, 'adapter_model.safetensors')),
          readFileSync(join(DIR, 'adapter', 'adapter_model.safetensors')),
        ),
      ).toBe(0);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('matches merge_and_unload weights', () => {
    const merged = lm.mergeAndUnload();
    const [kernel, bias] = merged.getLayer(spec.name).getWeights();
    tf.tidy(() => {
      expect(within(convToTorch(kernel!), io[`merged.${spec.name}.weight`]!)).toBeLessThan(TOL);
      expect(maxAbsDiff(bias!, io[`merged.${spec.name}.bias`]!)).toBe(0);
      expect(within(nhwcToNchw(merged.predict(input) as tf.Tensor), io['output']!)).toBeLessThan(TOL);
    });
    merged.dispose();
  });
});
