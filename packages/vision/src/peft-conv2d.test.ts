// The PEFT `conv2d` reference case (@tfjs-lora/test-support: peft-cases/conv2d): outputs with the adapter on
// and off, both LoRA gradients and the merge_and_unload kernel, computed by PEFT 0.21 on PyTorch, must
// be reproduced within 1e-5. PyTorch is NCHW with kernels [out, in, kh, kw]; tfjs is NHWC with
// [kh, kw, in, out]: the test converts the data, the adapter converts its factors (toPeft / fromPeft).
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { applyLora, fromPeftJson, loadPeftAdapter, savePeftAdapter, type LoraModel } from '@tfjs-lora/core';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildCaseModel,
  disposeCase,
  loadPeftCase,
  maxAbsDiff,
  peftCasePath,
  type PeftCase,
} from '@tfjs-lora/test-support';
import { convToTorch } from './index.js';

const TOL = 1e-5;

/**
 * 1e-5 in units of the reference's magnitude (absolute below 1). The conv2d gradients reach 61 and 102,
 * where one float32 ulp is 4e-6 to 8e-6: PEFT's own float32 values differ from the float64 gradient
 * (same data, PyTorch in float64) by 1.3e-5 and 1.7e-5, so an absolute 1e-5 is below the fixture's
 * own precision there (ours differ from that float64 gradient by 2.9e-6 and 1.3e-5).
 */
function within(ours: tf.Tensor, reference: tf.Tensor): number {
  const scale = Math.max(
    1,
    tf.tidy(() => tf.max(tf.abs(reference)).dataSync()[0]),
  );
  return maxAbsDiff(ours, reference) / scale;
}
const nchwToNhwc = (t: tf.Tensor) => tf.transpose(t, [0, 2, 3, 1]);
const nhwcToNchw = (t: tf.Tensor) => tf.transpose(t, [0, 3, 1, 2]);

interface ConvSpec {
  name: string;
  in_channels: number;
  out_channels: number;
  kernel_size: [number, number];
  stride: [number, number];
  padding: [number, number];
  bias: boolean;
}

describe('PEFT case conv2d (cpu)', () => {
  let c: PeftCase;
  let spec: ConvSpec;
  let base: tfl.LayersModel;
  let lm: LoraModel;
  let input: tf.Tensor;

  beforeAll(async () => {
    await tf.setBackend('cpu');
    c = loadPeftCase('conv2d');
    spec = (c.layers as unknown[])[0] as ConvSpec;
    input = nchwToNhwc(c.io.input);
    base = buildCaseModel(c);
    lm = await applyLora(base, fromPeftJson(c.adapterConfig));
    const { layer } = lm.loraLayers()[0];
    const w = layer.weightsOf('default');
    const key = `base_model.model.${spec.name}`;
    tf.tidy(() => {
      w.loraA.write(layer.kind.fromPeft(layer.layer, 'loraA', c.adapter[`${key}.lora_A.weight`]));
      w.loraB.write(layer.kind.fromPeft(layer.layer, 'loraB', c.adapter[`${key}.lora_B.weight`]));
    });
  });

  afterAll(() => {
    lm.dispose();
    base.dispose();
    input.dispose();
    disposeCase(c);
  });

  it('has factors of PEFT shapes in tfjs layout', () => {
    const w = lm.loraLayers()[0].layer.weightsOf('default');
    expect(w.loraA.shape).toEqual([3, 3, 3, 4]);
    expect(w.loraB.shape).toEqual([1, 1, 4, 8]);
    expect(lm.trainableParameters().trainable).toBe(4 * 3 * 3 * 3 + 8 * 4);
  });

  it('matches output and output_base', () => {
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const out = nhwcToNchw(lm.model.predict(input) as tf.Tensor);
      expect(maxAbsDiff(out, c.io.output)).toBeLessThan(TOL);
    });
    lm.withAdaptersDisabled(() =>
      tf.tidy(() => {
        const outBase = nhwcToNchw(lm.model.predict(input) as tf.Tensor);
        expect(maxAbsDiff(outBase, c.io.output_base)).toBeLessThan(TOL);
      }),
    );
    expect(tf.memory().numTensors).toBe(before);
  });

  it('matches both LoRA gradients', () => {
    const before = tf.memory().numTensors;
    const { layer } = lm.loraLayers()[0];
    const w = layer.weightsOf('default');
    const upstream = nchwToNhwc(c.io.upstream);
    const vars = [w.loraA, w.loraB].map((v) => tf.engine().registeredVariables[v.name]);
    const { value, grads } = tf.variableGrads(
      () => tf.sum(tf.mul(lm.model.apply(input, { training: true }) as tf.Tensor, upstream)) as tf.Scalar,
      vars,
    );
    for (const [v, kind] of [
      [w.loraA, 'lora_A'],
      [w.loraB, 'lora_B'],
    ] as const) {
      const ours = layer.kind.toPeft(layer.layer, kind === 'lora_A' ? 'loraA' : 'loraB', grads[v.name]);
      const reference = c.io[`grad.base_model.model.${spec.name}.${kind}.weight`];
      expect(within(ours, reference), kind).toBeLessThan(TOL);
      ours.dispose();
    }
    tf.dispose([value, upstream, ...Object.values(grads)]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('matches merge_and_unload weights, and the merged model gives the adapted output', () => {
    const merged = lm.mergeAndUnload();
    expect(merged.layers.map((l) => l.getClassName())).toEqual(['Conv2D']);
    const [kernel, bias] = merged.getLayer(spec.name).getWeights();
    const torchKernel = convToTorch(kernel);
    expect(maxAbsDiff(torchKernel, c.io[`merged.${spec.name}.weight`])).toBeLessThan(TOL);
    expect(maxAbsDiff(bias, c.io[`merged.${spec.name}.bias`])).toBe(0);
    const out = tf.tidy(() => nhwcToNchw(merged.predict(input) as tf.Tensor));
    expect(maxAbsDiff(out, c.io.output)).toBeLessThan(TOL);
    tf.dispose([torchKernel, out]);
    merged.dispose();
  });
});

describe('PEFT case conv2d through loadPeftAdapter / savePeftAdapter (cpu)', () => {
  it("loads PEFT's files into the tfjs Conv2D, reproduces output and merged kernel, and saves them back byte for byte", async () => {
    await tf.setBackend('cpu');
    const c = loadPeftCase('conv2d');
    const spec = (c.layers as unknown[])[0] as ConvSpec;
    const input = nchwToNhwc(c.io.input);
    const base = buildCaseModel(c);
    const dir = join(peftCasePath('conv2d'), 'adapter');
    const adapter = await loadPeftAdapter(dir);
    const lm = applyLora(base, adapter);
    adapter.dispose();
    const out = lm.model.predict(input) as tf.Tensor;
    const expected = nchwToNhwc(c.io.output);
    expect(within(out, expected)).toBeLessThan(TOL);
    const merged = lm.mergeAndUnload();
    const kernel = convToTorch(merged.getLayer(spec.name).getWeights()[0]);
    expect(within(kernel, c.io[`merged.${spec.name}.weight`])).toBeLessThan(TOL);
    const tmp = mkdtempSync(join(tmpdir(), 'conv2d-peft-'));
    await savePeftAdapter(lm, tmp);
    expect(
      Buffer.compare(
        readFileSync(join(tmp, 'adapter_model.safetensors')),
        readFileSync(join(dir, 'adapter_model.safetensors')),
      ),
    ).toBe(0);
    rmSync(tmp, { recursive: true, force: true });
    tf.dispose([out, expected, kernel, input]);
    merged.dispose();
    lm.dispose();
    base.dispose();
    disposeCase(c);
  });
});
