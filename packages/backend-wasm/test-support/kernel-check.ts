// Test-only helpers: run one kernel on the cpu and wasm backends with identical inputs and compare.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '@tfjs-lora/core';
import { registerWasmBackend } from '../src/wasm-backend.js';
import { maxDiff, values } from '@tfjs-lora/test-support';

/** Initialises cpu and wasm (through the plugin, as users do) and leaves wasm active. */
export async function setUpBackends(): Promise<void> {
  registerWasmBackend();
  await useBackend('cpu');
  await useBackend('wasm');
}

/** Deterministic values in [-1, 1) and max |a − b|: the shared test helpers. */
export { maxDiff, values };

/** A kernel input: float values from a seed, or explicit values. */
export interface InputSpec {
  shape: number[];
  dtype?: 'float32' | 'int32' | 'bool';
  seed?: number;
  data?: number[];
}

/** The kernel's output on one backend, and whether the kernel left data behind. */
export interface KernelRun {
  shape: number[];
  data: Float32Array | Int32Array | Uint8Array;
  leakedTensors: number;
  leakedDataIds: number;
}

/** Runs a registered kernel on `backend` with inputs built from specs. */
export async function runOn(
  backend: 'cpu' | 'wasm',
  kernel: string,
  inputs: Record<string, InputSpec>,
  attrs: tf.NamedAttrMap,
): Promise<KernelRun> {
  await tf.setBackend(backend);
  if (tf.getBackend() !== backend) throw new Error(`test setup: expected backend ${backend}, found ${tf.getBackend()}`);
  const made = Object.fromEntries(
    Object.entries(inputs).map(([k, spec]) => {
      const dtype = spec.dtype ?? 'float32';
      const n = tf.util.sizeFromShape(spec.shape);
      // Generated int32 values: the float values × 1000, rounded (so they are not all 0).
      const data =
        spec.data ?? Array.from(values(n, spec.seed ?? 1), (v) => (dtype === 'int32' ? Math.round(v * 1000) : v));
      return [k, tf.tensor(typedValues(data, dtype), spec.shape, dtype)];
    }),
  );
  const tensorsBefore = tf.memory().numTensors;
  const idsBefore = tf.engine().backend.numDataIds();
  const out = tf.engine().runKernel(kernel, made, attrs) as tf.Tensor;
  const data = out.dataSync() as Float32Array | Int32Array | Uint8Array;
  const shape = out.shape;
  out.dispose();
  const run = {
    shape,
    data,
    leakedTensors: tf.memory().numTensors - tensorsBefore,
    leakedDataIds: tf.engine().backend.numDataIds() - idsBefore,
  };
  tf.dispose(Object.values(made));
  return run;
}

/** Values as the typed array of a dtype (bool: value > 0). */
export function typedValues(
  data: ArrayLike<number>,
  dtype: 'float32' | 'int32' | 'bool',
): Float32Array | Int32Array | Uint8Array {
  if (dtype === 'int32') return Int32Array.from(data);
  if (dtype === 'bool') return Uint8Array.from(data, (v) => (v > 0 ? 1 : 0));
  return Float32Array.from(data);
}

/** Runs the kernel on cpu and wasm; returns both results. */
export async function onBoth(
  kernel: string,
  inputs: Record<string, InputSpec>,
  attrs: tf.NamedAttrMap,
): Promise<{ cpu: KernelRun; wasm: KernelRun }> {
  const cpu = await runOn('cpu', kernel, inputs, attrs);
  const wasm = await runOn('wasm', kernel, inputs, attrs);
  return { cpu, wasm };
}

/** Kernel attributes from a typed attribute object (tfjs types them loosely; undefined fields dropped). */
export function attrMap(attrs: object): tf.NamedAttrMap {
  return Object.fromEntries(Object.entries(attrs).filter(([, v]) => v !== undefined)) as tf.NamedAttrMap;
}

/**
 * A depthwise filter [fh, fw, c, m] with its taps spread out by the dilation (zeros between): a
 * dilated convolution equals an undilated one with this filter. The cpu backend's depthwise backprop
 * kernels ignore dilations (tfjs's gradients require 1), so the dilated cases are checked against cpu
 * running the undilated equivalent.
 */
export function dilateFilter(
  data: Float32Array,
  shape: number[],
  dh: number,
  dw: number,
): { data: Float32Array; shape: number[] } {
  const [fh, fw, c, m] = shape;
  const eh = (fh - 1) * dh + 1;
  const ew = (fw - 1) * dw + 1;
  const out = new Float32Array(eh * ew * c * m);
  for (let i = 0; i < fh; i++) {
    for (let j = 0; j < fw; j++) {
      for (let k = 0; k < c * m; k++) out[(i * dh * ew + j * dw) * c * m + k] = data[(i * fw + j) * c * m + k];
    }
  }
  return { data: out, shape: [eh, ew, c, m] };
}

/** The taps of a dilated-filter gradient [eh, ew, c, m] that belong to the real filter [fh, fw, c, m]. */
export function undilateFilter(data: ArrayLike<number>, shape: number[], dh: number, dw: number): Float32Array {
  const [fh, fw, c, m] = shape;
  const ew = (fw - 1) * dw + 1;
  const out = new Float32Array(fh * fw * c * m);
  for (let i = 0; i < fh; i++) {
    for (let j = 0; j < fw; j++) {
      for (let k = 0; k < c * m; k++) out[(i * fw + j) * c * m + k] = data[(i * dh * ew + j * dw) * c * m + k];
    }
  }
  return out;
}

/** A pair (dh, dw) from a number or a pair. */
export function pair(v: number | [number, number]): [number, number] {
  return typeof v === 'number' ? [v, v] : v;
}

/**
 * The gradient of `f` at a seeded input of `shape` on cpu and on wasm, with the tensors each run left
 * behind (0 when nothing leaks); `setUp` makes extra inputs on the active backend (disposed after).
 */
export async function gradientOnBoth(
  shape: number[],
  f: (x: tf.Tensor, extra: tf.Tensor[]) => tf.Tensor,
  setUp: () => tf.Tensor[] = () => [],
): Promise<Record<'cpu' | 'wasm', { data: number[]; leaked: number }>> {
  const run = async (backend: 'cpu' | 'wasm') => {
    await tf.setBackend(backend);
    const x = tf.tensor(values(tf.util.sizeFromShape(shape), 3), shape);
    const extra = setUp();
    const before = tf.memory().numTensors;
    const g = tf.grad((v: tf.Tensor) => f(v, extra))(x);
    const out = { data: Array.from(g.dataSync()), leaked: tf.memory().numTensors - before - 1 };
    tf.dispose([x, g, ...extra]);
    return out;
  };
  return { cpu: await run('cpu'), wasm: await run('wasm') };
}
