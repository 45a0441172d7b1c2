import type { WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';

/**
 * Per-row low-rank down-projection (BGMV "shrink"): `out[i, j] = Σ_k X[i, k] · F[a_i, k, j]` with
 * a_i = AdapterIndex[i]; rows whose index is negative give zeros. X [m, inner], F [adapters, inner, r]
 * or, transposed, [adapters, r, inner] (so the same program computes dy·Bᵀ for the input gradient).
 * One invocation per output element; consecutive invocations share a row of X and read F coalesced.
 */
export class BgmvShrinkProgram implements WebGPUProgram {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  variableNames = ['X', 'F', 'AdapterIndex'];
  workgroupSize: [number, number, number] = [64, 1, 1];
  size = true;
  private readonly transposeF: boolean;

  constructor(m: number, r: number, transposeF: boolean) {
    this.outputShape = [m, r];
    this.dispatchLayout = { x: [0, 1] };
    this.dispatch = [Math.ceil((m * r) / 64), 1, 1];
    this.transposeF = transposeF;
    this.shaderKey = `loraBgmvShrink_${transposeF}`;
  }

  getUserCode(): string {
    const fIndex = this.transposeF ? 'base + j * inner + k' : 'base + k * r + j';
    return `
    fn main(index : i32) {
      if (index < uniforms.size) {
        let r = uniforms.outShape[1];
        let inner = uniforms.xShape[1];
        let row = index / r;
        let j = index - row * r;
        let a = AdapterIndex[row];
        var acc = 0.0;
        if (a >= 0 && a < uniforms.fShape[0]) {
          let base = a * inner * r;
          let xBase = row * inner;
          for (var k = 0; k < inner; k = k + 1) {
            acc = fma(X[xBase + k], F[${fIndex}], acc);
          }
        }
        setOutputAtIndex(index, acc);
      }
    }`;
  }
}
