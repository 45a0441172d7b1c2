import type { WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import {
  accumulateScalar,
  loadScalarTiles,
  scalarReaders,
  TILE,
  vec4Readers,
  vec4TileStep,
} from './lora-matmul-wgsl.js';

export { TILE };

/** Inner-dimension tile of the low-rank pass: the smallest of 4, 8, 16, 32 that holds r (32 beyond). */
export function lowRankTile(r: number): number {
  return r <= 4 ? 4 : r <= 8 ? 8 : r <= 16 ? 16 : 32;
}

/** Shapes and flags of one {@link LoraMatMulProgram}. */
export interface LoraMatMulShape {
  /** Output rows (rows of P and P2). */
  m: number;
  /** Output columns. */
  n: number;
  /** Shared size of the full-rank product (P's columns). */
  k: number;
  /** Shared size of the low-rank product (P2's columns, LoRA's r). */
  r: number;
  /** Q is stored transposed, [n, k] instead of [k, n]. */
  transposeQ: boolean;
  /** Q2 is stored transposed, [n, r] instead of [r, n]. */
  transposeQ2: boolean;
  /** A bias [n] is added. */
  hasBias: boolean;
}

/**
 * The fused LoRA output pass: `out = P·Q + scale2·(P2·Q2) + bias`, with P [m, k], Q [k, n] (or [n, k]
 * transposed), P2 [m, r], Q2 [r, n] (or [n, r]). The low-rank product is accumulated by the same
 * workgroup, over the same output tile, after the full-rank one: no ΔW, no full-size intermediate.
 * Forward: P = x, Q = W, P2 = x·A, Q2 = B. Input gradient: P = dy, Q = Wᵀ, P2 = s·dy·Bᵀ, Q2 = Aᵀ.
 * When k and n are multiples of 4 the full-rank pass reads vec4s; otherwise scalars (any shape).
 */
export class LoraMatMulProgram implements WebGPUProgram {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout = { x: [1], y: [0] };
  dispatch: [number, number, number];
  variableNames: string[];
  variableComponents: number[];
  outputComponent = 1;
  uniforms = 'scale2 : f32,';
  workgroupSize: [number, number, number] = [8, 8, 1];
  /** Whether the full-rank pass reads vec4s. */
  readonly vec4: boolean;
  private readonly shape: LoraMatMulShape;
  private readonly tk2: number;

  constructor(shape: LoraMatMulShape) {
    this.shape = shape;
    this.vec4 = shape.k % 4 === 0 && shape.n % 4 === 0;
    this.tk2 = lowRankTile(shape.r);
    this.outputShape = [shape.m, shape.n];
    this.dispatch = [Math.ceil(shape.n / TILE), Math.ceil(shape.m / TILE), 1];
    this.variableNames = shape.hasBias ? ['P', 'Q', 'P2', 'Q2', 'bias'] : ['P', 'Q', 'P2', 'Q2'];
    const c = this.vec4 ? 4 : 1;
    this.variableComponents = shape.hasBias ? [c, c, 1, 1, 1] : [c, c, 1, 1];
    this.shaderKey = `loraMatMul_${this.vec4}_${shape.transposeQ}_${shape.transposeQ2}_${shape.hasBias}_${this.tk2}`;
  }

  getUserCode(): string {
    const { transposeQ, transposeQ2, hasBias } = this.shape;
    const tk2 = this.tk2;
    const mainPass = this.vec4
      ? `
      for (var t = 0; t < tiles; t = t + 1) {
        let k0 = t * ${TILE};
        ${vec4TileStep(transposeQ)}
      }`
      : `
      for (var t = 0; t < tiles; t = t + 1) {
        let k0 = t * ${TILE};
        ${loadScalarTiles('P', 'Q', transposeQ, TILE)}
        ${accumulateScalar('acc', TILE)}
      }`;
    const vec4Tiles = this.vec4
      ? `var<workgroup> tileP4 : array<array<vec4<f32>, 8>, ${TILE}>;
    ${transposeQ ? `var<workgroup> tileQT4 : array<array<vec4<f32>, 8>, ${TILE}>;` : ''}`
      : '';
    return `
    var<workgroup> tileP : array<array<f32, ${TILE}>, ${TILE}>;
    var<workgroup> tileQ : array<array<vec4<f32>, 8>, ${TILE}>;
    ${vec4Tiles}
    ${this.vec4 ? vec4Readers(transposeQ) : scalarReaders('P', 'Q', 'uniforms.pShape[1]', transposeQ)}
    ${scalarReaders('P2', 'Q2', 'uniforms.p2Shape[1]', transposeQ2)}

    fn main() {
      let lx = i32(localId.x);
      let ly = i32(localId.y);
      let li = i32(localIndex);
      let rowStart = i32(workgroupId.y) * ${TILE};
      let colStart = i32(workgroupId.x) * ${TILE};
      var acc : array<vec4<f32>, 4>;
      var acc2 : array<vec4<f32>, 4>;
      for (var i = 0; i < 4; i = i + 1) {
        acc[i] = vec4<f32>(0.0);
        acc2[i] = vec4<f32>(0.0);
      }

      // Full-rank pass: P·Q over the shared dimension.
      let tiles = (uniforms.pShape[1] + ${TILE - 1}) / ${TILE};
      ${mainPass}

      // Low-rank pass over r, into the same output tile.
      let tiles2 = (uniforms.p2Shape[1] + ${tk2 - 1}) / ${tk2};
      for (var t = 0; t < tiles2; t = t + 1) {
        let k0 = t * ${tk2};
        ${loadScalarTiles('P2', 'Q2', transposeQ2, tk2)}
        ${accumulateScalar('acc2', tk2)}
      }

      for (var i = 0; i < 4; i = i + 1) {
        let row = rowStart + ly * 4 + i;
        var v = acc[i] + uniforms.scale2 * acc2[i];
        for (var j = 0; j < 4; j = j + 1) {
          let col = colStart + lx * 4 + j;
          if (row < uniforms.outShape[0] && col < uniforms.outShape[1]) {
            result[row * uniforms.outShape[1] + col] = v[j]${hasBias ? ' + bias[col]' : ''};
          }
        }
      }
    }`;
  }
}
