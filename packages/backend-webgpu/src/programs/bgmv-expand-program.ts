import type { WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';

/**
 * Per-row low-rank up-projection (BGMV "expand"): `out[i, n] = s[a_i] · Σ_j T[i, j] · G[a_i, j, n]` with
 * a_i = AdapterIndex[i]; rows whose index is negative give zeros. T [m, r], G [adapters, r, n] or,
 * transposed, [adapters, n, r] (so the same program computes g·Aᵀ for the input gradient), s = Scalings.
 */
export class BgmvExpandProgram implements WebGPUProgram {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  variableNames = ['T', 'G', 'AdapterIndex', 'Scalings'];
  workgroupSize: [number, number, number] = [64, 1, 1];
  size = true;
  private readonly transposeG: boolean;

  constructor(m: number, n: number, transposeG: boolean) {
    this.outputShape = [m, n];
    this.dispatchLayout = { x: [0, 1] };
    this.dispatch = [Math.ceil((m * n) / 64), 1, 1];
    this.transposeG = transposeG;
    this.shaderKey = `loraBgmvExpand_${transposeG}`;
  }

  getUserCode(): string {
    const gIndex = this.transposeG ? 'base + col * r + j' : 'base + j * n + col';
    return `
    fn main(index : i32) {
      if (index < uniforms.size) {
        let n = uniforms.outShape[1];
        let r = uniforms.tShape[1];
        let row = index / n;
        let col = index - row * n;
        let a = AdapterIndex[row];
        var acc = 0.0;
        if (a >= 0 && a < uniforms.gShape[0]) {
          let base = a * r * n;
          let tBase = row * r;
          for (var j = 0; j < r; j = j + 1) {
            acc = fma(T[tBase + j], G[${gIndex}], acc);
          }
          acc = acc * Scalings[a];
        }
        setOutputAtIndex(index, acc);
      }
    }`;
  }
}
