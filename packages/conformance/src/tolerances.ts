/**
 * Absolute tolerances of the conformance checks, per backend. PEFT values are float32 results of PyTorch
 * on the CPU; "vs cpu" values compare the same computation on this backend and on tfjs's cpu backend.
 */
export interface ConformanceTolerances {
  /** PEFT outputs (adapter on and off) and merged-model outputs. */
  peftOutput: number;
  /** PEFT gradients of every LoRA tensor, in units of max(1, max |PEFT gradient|). */
  peftGradient: number;
  /** PEFT `merge_and_unload` weights. */
  peftMerged: number;
  /** Per-step loss of 20 Adam steps vs the cpu backend, relative to the loss. */
  trainingLoss: number;
  /** LoRA weights after 20 Adam steps vs the cpu backend, relative to the largest weight. */
  trainingWeights: number;
  /** A merged model's output vs the unmerged LoRA model's output on the same backend. */
  mergedOutput: number;
  /** A backend's fused kernels vs the composed ops on the same backend (forward and gradients). */
  fusedKernels: number;
  /** Hugging Face models (checks/hf-models.ts): logits vs transformers' and PEFT's (adapter, merged). */
  hfLogits: number;
}

/**
 * Documented tolerances, with the worst values measured on 2026-11-28 (Debian 12, 2 cores; WebGPU on
 * Dawn/Mesa llvmpipe in Node and on SwiftShader in Chromium 156):
 *
 * | backend | PEFT output / gradient / merged W | 20 Adam steps vs cpu: loss / weights (relative) | fused vs composed |
 * |---|---|---|---|
 * | cpu    | 3.8e-6 / 7.6e-6 / ≤3.8e-6 (tol 1e-5)    | identical (tol 1e-6)                    | no fused kernels |
 * | wasm   | 5.7e-6 / 7.6e-6 / ≤3.8e-6 (tol 1e-5)    | 2.0e-7 / 6.3e-7 (tol 1e-5 / 1e-5)       | no fused kernels |
 * | webgpu | 3.8e-6 / 7.6e-6 / 1.9e-6 (tol 1e-4, W 1e-5) | 1.2e-7 / 4.2e-7 (tol 1e-5 / 1e-4)   | 7.6e-6 (tol 1e-4) |
 *
 * cpu is the reference (core's PEFT budget, 1e-5). wasm (XNNPACK) sums in another order: the same budget.
 * WebGPU gets 1e-4 absolute on outputs and gradients, the budget the fused kernels are held to, because
 * GPUs (and software rasterisers) order and fuse float32 sums differently from the CPU; merged weights
 * stay at 1e-5 (one A·B product). Training tolerances leave ~15-200x margin over the measured values.
 * native and cuda (@tfjs-lora/backend-cuda on TensorFlow's CPU kernels, Eigen/oneDNN) keep the cpu/wasm
 * budget; their fused LoRA matmul is held to 1e-4, as WebGPU's.
 *
 * Hugging Face models (`hfLogits`, checks/hf-models.ts): 1e-4 on every backend, the budget issue 16 sets
 * for logits vs transformers (whole models: 2-layer transformers and a ResNet, where float32 rounding of
 * PyTorch and tfjs compounds through layer norms, softmax and GELU). Worst max |Δ| over base, PEFT
 * adapter, merged, unmerged and mergeAndUnload logits, measured on 2026-12-07 (same machine):
 *
 * | fixture | cpu | wasm | native | webgpu (Node, Dawn) | webgpu (Chromium, SwiftShader) |
 * |---|---|---|---|---|---|
 * | gpt2-lm          | 4.3e-6 | 4.9e-6 | 4.9e-6 | 4.3e-6 | 4.3e-6 |
 * | gpt2-cls         | 9.5e-7 | 1.3e-6 | 1.2e-6 | 1.2e-6 | 1.2e-6 |
 * | gpt2-cls-leftpad | 2.4e-7 | 6.6e-7 | 2.4e-7 | 4.8e-7 | 3.0e-7 |
 * | distilbert-cls   | 2.4e-6 | 2.7e-6 | 2.4e-6 | 2.4e-6 | 3.1e-6 |
 * | bert-cls         | 4.8e-7 | 1.1e-6 | 4.8e-7 | 4.8e-7 | 7.2e-7 |
 * | vit-cls          | 1.3e-6 | 1.6e-6 | 1.4e-6 | 1.4e-6 | 2.0e-6 |
 * | resnet-cls       | 3.6e-7 | 3.6e-7 | 2.4e-7 | 4.8e-7 | 4.8e-7 |
 *
 * WebGPU needs nothing looser than the cpu budget here (≥ 20x margin everywhere), so it keeps 1e-4.
 */
export const TOLERANCES: Readonly<Record<string, ConformanceTolerances>> = {
  cpu: {
    peftOutput: 1e-5,
    peftGradient: 1e-5,
    peftMerged: 1e-5,
    trainingLoss: 1e-6,
    trainingWeights: 1e-6,
    mergedOutput: 1e-5,
    fusedKernels: 1e-5,
    hfLogits: 1e-4,
  },
  wasm: {
    peftOutput: 1e-5,
    peftGradient: 1e-5,
    peftMerged: 1e-5,
    trainingLoss: 1e-5,
    trainingWeights: 1e-5,
    mergedOutput: 1e-5,
    fusedKernels: 1e-5,
    hfLogits: 1e-4,
  },
  native: {
    peftOutput: 1e-5,
    peftGradient: 1e-5,
    peftMerged: 1e-5,
    trainingLoss: 1e-5,
    trainingWeights: 1e-5,
    mergedOutput: 1e-5,
    fusedKernels: 1e-4,
    hfLogits: 1e-4,
  },
  cuda: {
    peftOutput: 1e-5,
    peftGradient: 1e-5,
    peftMerged: 1e-5,
    trainingLoss: 1e-5,
    trainingWeights: 1e-5,
    mergedOutput: 1e-5,
    fusedKernels: 1e-4,
    hfLogits: 1e-4,
  },
  webgpu: {
    peftOutput: 1e-4,
    peftGradient: 1e-4,
    peftMerged: 1e-5,
    trainingLoss: 1e-5,
    trainingWeights: 1e-4,
    mergedOutput: 1e-4,
    fusedKernels: 1e-4,
    hfLogits: 1e-4,
  },
};

/** The tolerances of a backend; unknown backends get WebGPU's (the loosest documented). */
export function tolerancesFor(backend: string): ConformanceTolerances {
  return TOLERANCES[backend] ?? TOLERANCES['webgpu'];
}
