import * as tf from '@tensorflow/tfjs-core';
import { LoraError } from '@tfjs-lora/core';

/** A tensor as kernels see it: a data id, a shape and a dtype. */
export type Info = tf.TensorInfo;

/**
 * Runs other kernels of the same backend from inside a composed kernel (tfjs style: kernel functions
 * call kernel functions, not ops) and frees every intermediate result when the composed kernel is done.
 * Intermediates that a kernel returns as a view (wasm `Reshape` shares its input's buffer and raises its
 * reference count) are freed by reference count, so the result may be a view of an intermediate.
 */
export class KernelScope {
  private readonly temps: Info[] = [];

  constructor(
    /** The backend instance the composed kernel was called with. */
    readonly backend: tf.KernelBackend,
    /** The backend name the component kernels are registered for. */
    readonly backendName: string,
  ) {}

  /** Runs a registered kernel of this backend; the result is freed by {@link dispose} unless {@link keep} is called. */
  run(kernelName: string, inputs: tf.NamedTensorInfoMap | Info[], attrs: tf.NamedAttrMap = {}): Info {
    const kernel = tf.getKernel(kernelName, this.backendName);
    if (!kernel) {
      throw new LoraError(
        `A composed training kernel needs '${kernelName}' on the '${this.backendName}' backend, but it is not registered. ` +
          `Expected @tensorflow/tfjs-backend-wasm 4.22 (which has it); import it before running training ops.`,
      );
    }
    // Kernels with a variable number of inputs (Concat, AddN) take an array, as tfjs passes them.
    const out = kernel.kernelFunc({ inputs: inputs as tf.NamedTensorInfoMap, attrs, backend: this.backend });
    const info = (Array.isArray(out) ? out[0] : out) as Info;
    this.temps.push(info);
    return info;
  }

  /** Reshapes (a view in wasm: no copy). */
  reshape(x: Info, shape: number[]): Info {
    if (tf.util.arraysEqual(x.shape, shape)) return x;
    return this.run('Reshape', { x }, { shape });
  }

  /** Matrix product of two rank-3 tensors [b, m, k] × [b, k, n] (or rank 2, treated as b = 1). */
  matMul(a: Info, b: Info): Info {
    return this.run('BatchMatMul', { a, b }, { transposeA: false, transposeB: false });
  }

  /** Permutes axes. */
  transpose(x: Info, perm: number[]): Info {
    return this.run('Transpose', { x }, { perm });
  }

  /** Takes ownership of a tensor made outside {@link run} (freed with the other intermediates). */
  adopt(info: Info): Info {
    this.temps.push(info);
    return info;
  }

  /** Runs a kernel function directly (e.g. the original of a kernel this package overrides). */
  runFunc(kernelFunc: tf.KernelFunc, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap = {}): Info {
    const out = kernelFunc({ inputs, attrs, backend: this.backend });
    return this.adopt((Array.isArray(out) ? out[0] : out) as Info);
  }

  /** A new tensor holding `values` (freed with the other intermediates). */
  constant(values: Float32Array | Int32Array, shape: number[], dtype: 'float32' | 'int32'): Info {
    const info: Info = { dataId: this.backend.write(values, shape, dtype), shape, dtype };
    this.temps.push(info);
    return info;
  }

  /** Marks a result as the composed kernel's output: {@link dispose} keeps it. */
  keep(x: Info): Info {
    const i = this.temps.lastIndexOf(x);
    if (i >= 0) this.temps.splice(i, 1);
    return x;
  }

  /** Frees intermediates now (large per-step temporaries inside a loop), instead of at the end. */
  free(...infos: Info[]): void {
    for (const x of infos) {
      const i = this.temps.lastIndexOf(x);
      if (i < 0) continue;
      this.temps.splice(i, 1);
      this.backend.disposeData(x.dataId);
    }
  }

  /** Frees every intermediate that was not kept. */
  dispose(): void {
    for (const t of this.temps.splice(0)) this.backend.disposeData(t.dataId);
  }
}

/** What tfjs passes to a kernel function. */
export type KernelParams = Parameters<tf.KernelFunc>[0];

/**
 * Runs a composed kernel body for the wasm backend with a {@link KernelScope}, freeing intermediates
 * even when it throws. The body gets the inputs, the attributes typed as `A`, and the scope; its result
 * is the kernel's output.
 */
export function composedWasmKernel<A>(
  params: KernelParams,
  body: (inputs: Record<string, Info>, attrs: A, s: KernelScope) => Info,
): Info {
  const scope = new KernelScope(params.backend as tf.KernelBackend, 'wasm');
  // tfjs types attributes loosely (NamedAttrMap); each kernel names its attribute interface.
  const attrs = (params.attrs ?? {}) as unknown as A;
  try {
    return scope.keep(body(params.inputs as Record<string, Info>, attrs, scope));
  } finally {
    scope.dispose();
  }
}
