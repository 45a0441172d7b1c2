import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { ShapeMismatchError } from '@tfjs-lora/core';
import { LoraMatMulProgram } from '../programs/lora-matmul-program.js';

/** tfjs kernel name of the fused LoRA output pass. */
export const LORA_MATMUL = 'LoraMatMul';

/** Inputs of the `LoraMatMul` kernel: `out = p·q + scale2·(p2·q2) + bias`. */
export interface LoraMatMulInputs {
  /** Left operand [m, k] (x, or dy for the input gradient). */
  p: TensorInfo;
  /** Right operand [k, n] (or [n, k] with transposeQ). */
  q: TensorInfo;
  /** Low-rank left operand [m, r] (x·A, or s·dy·Bᵀ). */
  p2: TensorInfo;
  /** Low-rank right operand [r, n] (or [n, r] with transposeQ2). */
  q2: TensorInfo;
  /** Optional bias [n]. */
  bias?: TensorInfo;
}

/** Attributes of the `LoraMatMul` kernel. */
export interface LoraMatMulAttrs extends NamedAttrMap {
  /** q is stored [n, k]. */
  transposeQ: boolean;
  /** q2 is stored [n, r]. */
  transposeQ2: boolean;
  /** Factor on the low-rank product (LoRA's scaling alpha/r). */
  scale2: number;
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new ShapeMismatchError(`LoraMatMul (webgpu): ${what}`);
}

/** Runs the fused program; every operand must be float32 and rank 2 (bias rank 1). */
export const loraMatMul = ({
  inputs,
  backend,
  attrs,
}: {
  inputs: LoraMatMulInputs;
  backend: WebGPUBackend;
  attrs: LoraMatMulAttrs;
}): TensorInfo => {
  const { p, q, p2, q2, bias } = inputs;
  const { transposeQ, transposeQ2, scale2 } = attrs;
  const [m, k] = p.shape;
  const n = transposeQ ? q.shape[0] : q.shape[1];
  const kq = transposeQ ? q.shape[1] : q.shape[0];
  const r = p2.shape[1];
  check(
    p.shape.length === 2 && q.shape.length === 2 && p2.shape.length === 2 && q2.shape.length === 2,
    `expected rank-2 operands; found p ${p.shape}, q ${q.shape}, p2 ${p2.shape}, q2 ${q2.shape}.`,
  );
  check(
    kq === k,
    `p [${p.shape}] and q [${q.shape}] (transposeQ ${transposeQ}) have different inner sizes ${k} and ${kq}.`,
  );
  check(p2.shape[0] === m, `p2 [${p2.shape}] must have ${m} rows like p [${p.shape}].`);
  const q2Shape = transposeQ2 ? [n, r] : [r, n];
  check(
    q2.shape[0] === q2Shape[0] && q2.shape[1] === q2Shape[1],
    `q2 is [${q2.shape}]; expected [${q2Shape}] (transposeQ2 ${transposeQ2}).`,
  );
  check(!bias || (bias.shape.length === 1 && bias.shape[0] === n), `bias is [${bias?.shape}]; expected [${n}].`);
  for (const t of [p, q, p2, q2, ...(bias ? [bias] : [])])
    check(t.dtype === 'float32', `every operand must be float32; found ${t.dtype}.`);
  const program = new LoraMatMulProgram({ m, n, k, r, transposeQ, transposeQ2, hasBias: Boolean(bias) });
  const operands = bias ? [p, q, p2, q2, bias] : [p, q, p2, q2];
  return backend.runWebGPUProgram(program, operands, 'float32', [{ type: 'float32', data: [scale2] }]);
};

/** Registration of `LoraMatMul` for the 'webgpu' backend. */
export const loraMatMulConfig: KernelConfig = {
  kernelName: LORA_MATMUL,
  backendName: 'webgpu',
  kernelFunc: loraMatMul as unknown as KernelFunc,
};
