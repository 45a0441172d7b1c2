// What an adapter file contains: per module its kind, sizes, rank, scaling and ‖ΔW‖, without a model.
import { toPeftJson } from '../config.js';
import type { PeftAdapter, PeftLoraModule } from './adapter.js';

/** One adapted module as `tfjs-lora inspect` reports it. */
export interface PeftModuleSummary {
  /** PEFT module path. */
  path: string;
  /** 'linear', 'conv2d', 'embedding', ... (see PeftLoraModule.kind). */
  kind: string;
  /** Input features (Linear), input channels (Conv) or vocabulary size (Embedding). */
  in: number;
  /** Output features / channels / embedding size. */
  out: number;
  /** Convolution kernel size, for Conv modules. */
  kernel?: number[];
  r: number;
  alpha: number;
  scaling: number;
  /** Parameters of this module in the file (A, B and a DoRA magnitude). */
  params: number;
  /** Frobenius norm of ΔW = scaling·B·A (computed in float64); null when B is not [out, r] after squeezing. */
  deltaNorm: number | null;
  /** Whether the module is DoRA (has a magnitude vector). */
  dora: boolean;
}

/** `tfjs-lora inspect --json`: the config, one row per module, whole-module tensors, and the parameter total. */
export interface PeftAdapterSummary {
  /** adapter_config.json as read. */
  config: Record<string, unknown>;
  modules: PeftModuleSummary[];
  /** modules_to_save / base_layer / bias tensors. */
  moduleWeights: { path: string; role: string; params: number; tensors: { name: string; shape: number[] }[] }[];
  /** Every parameter in the file. */
  totalParams: number;
}

/**
 * ‖B·A‖_F for A [r, K] and B [O, r], through the r×r Gram matrices: ‖BA‖² = Σᵢⱼ (BᵀB)ᵢⱼ (AAᵀ)ᵢⱼ. Costs
 * O((K + O)·r²) in float64 instead of forming the O×K product.
 */
export function lowRankFrobeniusNorm(a: ArrayLike<number>, b: ArrayLike<number>, r: number): number {
  const k = a.length / r;
  const o = b.length / r;
  let sum = 0;
  for (let i = 0; i < r; i++) {
    for (let j = i; j < r; j++) {
      let ga = 0;
      for (let c = 0; c < k; c++) ga += a[i * k + c]! * a[j * k + c]!;
      let gb = 0;
      for (let row = 0; row < o; row++) gb += b[row * r + i]! * b[row * r + j]!;
      sum += (i === j ? 1 : 2) * ga * gb;
    }
  }
  return Math.sqrt(Math.max(0, sum));
}

async function summarize(m: PeftLoraModule): Promise<PeftModuleSummary> {
  const out = m.loraB.shape[0]!;
  const squeezable = m.loraB.size === out * m.r;
  const [a, b] = squeezable ? await Promise.all([m.loraA.data(), m.loraB.data()]) : [null, null];
  const deltaNorm = a && b ? m.scaling * lowRankFrobeniusNorm(a, b, m.r) : null;
  const kernel = m.kind.startsWith('conv') ? m.loraA.shape.slice(2) : undefined;
  return {
    path: m.path,
    kind: m.kind,
    in: m.loraA.shape[1]!,
    out,
    ...(kernel ? { kernel } : {}),
    r: m.r,
    alpha: m.alpha,
    scaling: m.scaling,
    params: m.loraA.size + m.loraB.size + (m.magnitude?.size ?? 0),
    deltaNorm: deltaNorm === null ? null : Math.abs(deltaNorm),
    dora: m.magnitude !== undefined,
  };
}

/**
 * Summarises an adapter (see {@link PeftAdapterSummary}); reads the factors asynchronously (`data()`), so
 * it works on every backend, WebGPU included.
 */
export async function inspectPeftAdapter(adapter: PeftAdapter): Promise<PeftAdapterSummary> {
  return {
    config: toPeftJson(adapter.config),
    modules: await Promise.all(adapter.modules.map(summarize)),
    moduleWeights: adapter.moduleWeights.map((w) => ({
      path: w.path,
      role: w.role,
      params: Object.values(w.params).reduce((n, t) => n + t.size, 0),
      tensors: Object.entries(w.params).map(([name, t]) => ({ name, shape: [...t.shape] })),
    })),
    totalParams: Object.values(adapter.tensors).reduce((n, t) => n + t.size, 0),
  };
}
