// IEEE half (F16) and bfloat16 (BF16) <-> float32, bit-exact with PyTorch's conversions
// (c10::Half / c10::BFloat16: round to nearest even; NaN becomes sign|0x7E00 for F16 and 0x7FC0 for BF16).

/** Widens IEEE half-precision bit patterns to float32 (exact; subnormals, ±Inf and NaN kept). */
export function f16ToF32(src: Uint16Array): Float32Array {
  const out = new Float32Array(src.length);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < src.length; i++) {
    const h = src[i]!;
    const sign = (h & 0x8000) << 16;
    const exp = (h >> 10) & 0x1f;
    let mant = h & 0x3ff;
    if (exp === 0) {
      if (mant === 0) {
        bits[i] = sign >>> 0;
        continue;
      }
      // subnormal half: normalise into a float32 exponent
      let e = 113;
      while ((mant & 0x400) === 0) {
        mant <<= 1;
        e--;
      }
      bits[i] = (sign | (e << 23) | ((mant & 0x3ff) << 13)) >>> 0;
    } else if (exp === 31) {
      bits[i] = (sign | 0x7f800000 | (mant << 13)) >>> 0;
    } else {
      bits[i] = (sign | ((exp + 112) << 23) | (mant << 13)) >>> 0;
    }
  }
  return out;
}

/** Widens bfloat16 bit patterns to float32 (exact: bfloat16 is the upper half of a float32). */
export function bf16ToF32(src: Uint16Array): Float32Array {
  const out = new Float32Array(src.length);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < src.length; i++) bits[i] = (src[i]! << 16) >>> 0;
  return out;
}

/** Rounds float32 values to IEEE half bit patterns (nearest even; overflow → ±Inf; NaN → sign|0x7E00). */
export function f32ToF16(src: Float32Array): Uint16Array {
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  const out = new Uint16Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const f = bits[i]!;
    const sign = (f >>> 16) & 0x8000;
    const abs = f & 0x7fffffff;
    if (abs > 0x7f800000) {
      out[i] = sign | 0x7e00;
    } else if (abs >= 0x477ff000) {
      // ≥ 65520 rounds to Inf (largest half is 65504)
      out[i] = sign | 0x7c00;
    } else if (abs < 0x38800000) {
      // below the smallest normal half (2^-14): subnormal or zero, rounded to nearest even
      if (abs < 0x33000000) {
        out[i] = sign; // < 2^-25 rounds to zero
        continue;
      }
      const exp = abs >>> 23;
      const mant = (abs & 0x7fffff) | 0x800000;
      const shift = 126 - exp; // 14..24
      const half = mant >>> shift;
      const rest = mant & ((1 << shift) - 1);
      const halfway = 1 << (shift - 1);
      const up = rest > halfway || (rest === halfway && (half & 1) === 1) ? 1 : 0;
      out[i] = sign | (half + up);
    } else {
      const rounded = abs + 0xfff + ((abs >>> 13) & 1);
      out[i] = sign | ((rounded - 0x38000000) >>> 13);
    }
  }
  return out;
}

/** Rounds float32 values to bfloat16 bit patterns (nearest even, as PyTorch; any NaN → 0x7FC0). */
export function f32ToBf16(src: Float32Array): Uint16Array {
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  const out = new Uint16Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const u = bits[i]!;
    if ((u & 0x7fffffff) > 0x7f800000) out[i] = 0x7fc0;
    else out[i] = (u + 0x7fff + ((u >>> 16) & 1)) >>> 16;
  }
  return out;
}
