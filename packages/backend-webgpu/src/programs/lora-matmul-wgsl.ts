// WGSL pieces of the fused LoRA output pass. Workgroup 8×8 threads; each thread owns a 4×4 block of a
// 32×32 output tile and keeps two accumulators: the full-rank product and the low-rank one.

/** Output rows and columns per workgroup. */
export const TILE = 32;

/** Scalar reads with bounds checks: any shape. `inner` is the uniform holding the shared size. */
export function scalarReaders(p: string, q: string, inner: string, transposedQ: boolean): string {
  const qIndex = transposedQ ? `col * ${inner} + k` : `k * uniforms.outShape[1] + col`;
  return `
    fn read${p}(row : i32, k : i32) -> f32 {
      if (row < uniforms.outShape[0] && k < ${inner}) { return ${p}[row * ${inner} + k]; }
      return 0.0;
    }
    fn read${q}(k : i32, col : i32) -> f32 {
      if (k < ${inner} && col < uniforms.outShape[1]) { return ${q}[${qIndex}]; }
      return 0.0;
    }`;
}

/** vec4 reads of P (along k) and Q (along n, or along k when transposed): shared size and n multiples of 4. */
export function vec4Readers(transposedQ: boolean): string {
  const q = transposedQ
    ? `fn readQ4(col : i32, k4 : i32) -> vec4<f32> {
      if (col < uniforms.outShape[1] && k4 * 4 < uniforms.pShape[1]) { return Q[col * (uniforms.pShape[1] / 4) + k4]; }
      return vec4<f32>(0.0);
    }`
    : `fn readQ4(k : i32, c4 : i32) -> vec4<f32> {
      if (k < uniforms.pShape[1] && c4 * 4 < uniforms.outShape[1]) { return Q[k * (uniforms.outShape[1] / 4) + c4]; }
      return vec4<f32>(0.0);
    }`;
  return `
    fn readP4(row : i32, k4 : i32) -> vec4<f32> {
      if (row < uniforms.outShape[0] && k4 * 4 < uniforms.pShape[1]) { return P[row * (uniforms.pShape[1] / 4) + k4]; }
      return vec4<f32>(0.0);
    }
    ${q}`;
}

/** Loads a scalar tile of P (32 rows × tk) and a vec4 tile of Q (tk rows × 32 columns), then a barrier. */
export function loadScalarTiles(p: string, q: string, transposedQ: boolean, tk: number): string {
  // Q tile: plain layout → consecutive threads walk columns (contiguous); transposed → they walk k.
  const kkCv = transposedQ ? `let kk = e % ${tk}; let cv = e / ${tk};` : `let kk = e / 8; let cv = e % 8;`;
  return `
      for (var e = li; e < ${TILE * tk}; e = e + 64) {
        let r = e / ${tk};
        let c = e % ${tk};
        tileP[r][c] = read${p}(rowStart + r, k0 + c);
      }
      for (var e = li; e < ${tk * 8}; e = e + 64) {
        ${kkCv}
        let col = colStart + cv * 4;
        tileQ[kk][cv] = vec4<f32>(read${q}(k0 + kk, col), read${q}(k0 + kk, col + 1),
                                  read${q}(k0 + kk, col + 2), read${q}(k0 + kk, col + 3));
      }
      workgroupBarrier();`;
}

/** Accumulates a scalar tile product into `acc`, then a barrier. */
export function accumulateScalar(acc: string, tk: number): string {
  return `
      for (var k = 0; k < ${tk}; k = k + 1) {
        let b = tileQ[k][lx];
        for (var i = 0; i < 4; i = i + 1) {
          ${acc}[i] = fma(vec4<f32>(tileP[ly * 4 + i][k]), b, ${acc}[i]);
        }
      }
      workgroupBarrier();`;
}

/** Loads vec4 tiles (P along k; Q along n, or along k when transposed), accumulates into acc, with barriers. */
export function vec4TileStep(transposedQ: boolean): string {
  const loadQ = transposedQ
    ? `tileQT4[e / 8][e % 8] = readQ4(colStart + e / 8, k0 / 4 + e % 8);`
    : `tileQ[e / 8][e % 8] = readQ4(k0 + e / 8, colStart / 4 + e % 8);`;
  const body = transposedQ
    ? `let b0 = tileQT4[lx * 4][k4];
        let b1 = tileQT4[lx * 4 + 1][k4];
        let b2 = tileQT4[lx * 4 + 2][k4];
        let b3 = tileQT4[lx * 4 + 3][k4];
        for (var i = 0; i < 4; i = i + 1) {
          let a = tileP4[ly * 4 + i][k4];
          acc[i] = acc[i] + vec4<f32>(dot(a, b0), dot(a, b1), dot(a, b2), dot(a, b3));
        }`
    : `let b0 = tileQ[k4 * 4][lx];
        let b1 = tileQ[k4 * 4 + 1][lx];
        let b2 = tileQ[k4 * 4 + 2][lx];
        let b3 = tileQ[k4 * 4 + 3][lx];
        for (var i = 0; i < 4; i = i + 1) {
          let a = tileP4[ly * 4 + i][k4];
          acc[i] = fma(vec4<f32>(a.x), b0, acc[i]);
          acc[i] = fma(vec4<f32>(a.y), b1, acc[i]);
          acc[i] = fma(vec4<f32>(a.z), b2, acc[i]);
          acc[i] = fma(vec4<f32>(a.w), b3, acc[i]);
        }`;
  return `
      for (var e = li; e < 256; e = e + 64) {
        tileP4[e / 8][e % 8] = readP4(rowStart + e / 8, k0 / 4 + e % 8);
        ${loadQ}
      }
      workgroupBarrier();
      for (var k4 = 0; k4 < 8; k4 = k4 + 1) {
        ${body}
      }
      workgroupBarrier();`;
}
