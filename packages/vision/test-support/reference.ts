// Test-only reference implementations in plain JavaScript (float64), independent of tfjs's kernels.

/** 'same' padding before the first element, as TensorFlow computes it. */
function padBefore(
  size: number,
  k: number,
  stride: number,
  dilation: number,
  padding: 'same' | 'valid',
): { out: number; before: number } {
  const eff = (k - 1) * dilation + 1;
  if (padding === 'valid') return { out: Math.ceil((size - eff + 1) / stride), before: 0 };
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + eff - size, 0);
  return { out, before: Math.floor(total / 2) };
}

/** Geometry of a 2-D convolution. */
export interface Geometry2D {
  strides: [number, number];
  padding: 'same' | 'valid';
  dilation: [number, number];
}

/**
 * y[n,i,j,o] = Σ w[a,b,c,o]·x[n, i·s + a·d − pad, j·s + b·d − pad, c] for a [kh, kw, C, O] kernel;
 * with `depthwise`, w is [kh, kw, C, M] and output channel c·M + m uses input channel c only.
 */
export function naiveConv2d(
  x: ArrayLike<number>,
  xShape: number[],
  w: ArrayLike<number>,
  wShape: number[],
  g: Geometry2D,
  depthwise = false,
): { data: Float64Array; shape: number[] } {
  const [n, h, wd, c] = xShape;
  const [kh, kw, , o] = wShape;
  const rows = padBefore(h, kh, g.strides[0], g.dilation[0], g.padding);
  const cols = padBefore(wd, kw, g.strides[1], g.dilation[1], g.padding);
  const outC = depthwise ? c * o : o;
  const out = new Float64Array(n * rows.out * cols.out * outC);
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < rows.out; i++) {
      for (let j = 0; j < cols.out; j++) {
        for (let a = 0; a < kh; a++) {
          const y = i * g.strides[0] + a * g.dilation[0] - rows.before;
          if (y < 0 || y >= h) continue;
          for (let e = 0; e < kw; e++) {
            const z = j * g.strides[1] + e * g.dilation[1] - cols.before;
            if (z < 0 || z >= wd) continue;
            const xi = ((b * h + y) * wd + z) * c;
            const oi = ((b * rows.out + i) * cols.out + j) * outC;
            for (let ci = 0; ci < c; ci++) {
              const wi = ((a * kw + e) * c + ci) * o;
              if (depthwise) {
                for (let m = 0; m < o; m++) out[oi + ci * o + m] += x[xi + ci] * w[wi + m];
              } else {
                for (let oc = 0; oc < o; oc++) out[oi + oc] += x[xi + ci] * w[wi + oc];
              }
            }
          }
        }
      }
    }
  }
  return { data: out, shape: [n, rows.out, cols.out, outC] };
}

/** C [m, n] = A [m, k] · B [k, n], row-major. */
export function naiveMatMul(a: ArrayLike<number>, b: ArrayLike<number>, m: number, k: number, n: number): Float64Array {
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let l = 0; l < k; l++) for (let j = 0; j < n; j++) out[i * n + j] += a[i * k + l] * b[l * n + j];
  return out;
}

/** Max |a − b| and deterministic values in [-1, 1): the shared test helpers. */
export { maxDiff, values } from '@tfjs-lora/test-support';
