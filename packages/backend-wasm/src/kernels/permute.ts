// Axis permutation of a dense row-major array in JavaScript, for the Transpose kernel and the cached
// transposes of BatchMatMul. Size-1 axes are dropped and axes that stay neighbours are merged first, so
// most permutations become a (batched) 2-D transpose, done in cache-sized tiles.

/** A typed array of one of the dtypes the wasm heap holds (float32, int32, bool). */
export type HeapArray = Float32Array | Int32Array | Uint8Array;

/** A permutation reduced to its essential form: no size-1 axes, neighbouring axes merged. */
export interface CollapsedPermutation {
  /** Input shape after dropping size-1 axes and merging axes that stay adjacent. */
  shape: number[];
  /** The permutation of the collapsed axes (output axis i reads input axis perm[i]). */
  perm: number[];
}

/** Drops size-1 axes and merges runs of input axes that stay adjacent and in order in the output. */
export function collapsePermutation(shape: readonly number[], perm: readonly number[]): CollapsedPermutation {
  // Size-1 axes dropped; the others renumbered, so axes around a dropped one become neighbours.
  const nonUnit = shape.map((_, a) => a).filter((a) => shape[a] !== 1);
  const sizes = nonUnit.map((a) => shape[a]);
  const kept = perm.filter((a) => shape[a] !== 1).map((a) => nonUnit.indexOf(a));
  // Groups of consecutive input axes, in output order.
  const groups: number[][] = [];
  for (const a of kept) {
    const last = groups[groups.length - 1];
    if (last && a === last[last.length - 1] + 1) last.push(a);
    else groups.push([a]);
  }
  const byInput = [...groups].sort((g, h) => g[0] - h[0]);
  const outShape = byInput.map((g) => g.reduce((n, a) => n * sizes[a], 1));
  return { shape: outShape, perm: groups.map((g) => byInput.indexOf(g)) };
}

/** Whether `perm` maps every axis to itself. */
export function isIdentityPermutation(perm: readonly number[]): boolean {
  return perm.every((a, i) => a === i);
}

const TILE = 32;

/**
 * Writes x (row-major, `shape`) permuted by `perm` into `out` (`out` must not overlap `x`). Any rank;
 * `shape`/`perm` are best collapsed first ({@link collapsePermutation}).
 */
export function permuteInto(x: HeapArray, out: HeapArray, shape: readonly number[], perm: readonly number[]): void {
  const r = perm.length;
  if (r === 0 || isIdentityPermutation(perm)) {
    out.set(x.subarray(0, out.length));
    return;
  }
  const inStrides = new Array<number>(r);
  for (let i = r - 1, s = 1; i >= 0; i--) {
    inStrides[i] = s;
    s *= shape[i];
  }
  const outShape = perm.map((a) => shape[a]);
  const outStrides = new Array<number>(r);
  for (let i = r - 1, s = 1; i >= 0; i--) {
    outStrides[i] = s;
    s *= outShape[i];
  }
  const src = perm.map((a) => inStrides[a]); // input stride of each output axis

  if (perm[r - 1] === r - 1) {
    // The innermost axis stays innermost: copy contiguous runs.
    const run = shape[r - 1];
    forEachBase(outShape, src, outStrides, [r - 1], (sb, db) => {
      if (run >= 32) out.set(x.subarray(sb, sb + run), db);
      else for (let k = 0; k < run; k++) out[db + k] = x[sb + k];
    });
    return;
  }
  // Tiled 2-D transpose between the output axis that reads the input's innermost axis (A, input stride
  // 1) and the output's innermost axis (B, output stride 1), for every index of the other axes.
  const a = perm.indexOf(r - 1);
  const b = r - 1;
  const nA = outShape[a];
  const nB = outShape[b];
  const dA = outStrides[a];
  const sB = src[b];
  forEachBase(outShape, src, outStrides, [a, b], (sb, db) => {
    for (let a0 = 0; a0 < nA; a0 += TILE) {
      const a1 = Math.min(a0 + TILE, nA);
      for (let b0 = 0; b0 < nB; b0 += TILE) {
        const b1 = Math.min(b0 + TILE, nB);
        for (let i = a0; i < a1; i++) {
          const d = db + i * dA;
          const s = sb + i;
          for (let j = b0; j < b1; j++) out[d + j] = x[s + j * sB];
        }
      }
    }
  });
}

/**
 * Calls `body(srcBase, dstBase)` for every index of the output axes not listed in `skip` (odometer order),
 * with the input and output offsets of that index.
 */
function forEachBase(
  outShape: number[],
  src: number[],
  dst: number[],
  skip: number[],
  body: (sb: number, db: number) => void,
): void {
  const axes = outShape.map((_, i) => i).filter((i) => !skip.includes(i));
  const idx = new Array<number>(axes.length).fill(0);
  let sb = 0;
  let db = 0;
  for (;;) {
    body(sb, db);
    let k = axes.length - 1;
    for (; k >= 0; k--) {
      const ax = axes[k];
      if (++idx[k] < outShape[ax]) {
        sb += src[ax];
        db += dst[ax];
        break;
      }
      sb -= src[ax] * (outShape[ax] - 1);
      db -= dst[ax] * (outShape[ax] - 1);
      idx[k] = 0;
    }
    if (k < 0) return;
  }
}
