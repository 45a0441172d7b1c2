// Every benchmark of the repository: its name for `pnpm bench <name>`, its script and what it compares.
// `pnpm bench` alone runs the main table (src/run.ts).

/** One benchmark. */
export interface Suite {
  /** Script under src/, run with tsx. */
  file: string;
  /** What it compares, one line. */
  compares: string;
}

/** The named benchmarks, in the order `pnpm bench list` prints them. */
export const SUITES: Readonly<Record<string, Suite>> = {
  main: {
    file: 'run.ts',
    compares: 'PEFT on PyTorch vs tfjs-lora on wasm (1 and 2 threads), native and cpu: MLP and CNN training steps',
  },
  'core-mlp': {
    file: 'suites/core-mlp.ts',
    compares:
      "core's LoRA vs full fine-tuning step and forward (base / unmerged / merged), MLP, cpu / stock wasm / native",
  },
  'core-fit': {
    file: 'suites/core-fit.ts',
    compares: "per-step overhead of model.fit, trainOnBatch, core's train and createTrainStep vs a minimize loop",
  },
  'nlp-lm': {
    file: 'suites/nlp-lm.ts',
    compares: 'Moby Dick char LM: per-row mixed adapters vs a loop, LoRA vs full step, forward merged vs unmerged',
  },
  'vision-cnn': {
    file: 'suites/vision-cnn.ts',
    compares: 'CNN and MobileNetV2: LoRA vs full fine-tuning step time and peak memory on cpu, wasm, native, vs PEFT',
  },
  'wasm-kernels': {
    file: 'suites/wasm-kernels.ts',
    compares: "@tfjs-lora/backend-wasm's kernels and threads vs tfjs-backend-wasm as shipped",
  },
  'hf-text': {
    file: 'suites/hf-text.ts',
    compares:
      'GPT-2-small and DistilBERT-base shaped LoRA training step (hf-text models) on wasm/native vs PEFT on PyTorch',
  },
  'frozen-dense': {
    file: 'suites/frozen-dense.ts',
    compares:
      "frozen Dense layers through core's frozenMatMul vs tfjs's fused Dense (discarded kernel gradients), one step",
  },
  graph: {
    file: 'suites/graph.ts',
    compares: 'GraphModel vs LayersModel LoRA step (MNIST CNN) and MobileNetV2 GraphModel vs PEFT, wasm, peak memory',
  },
  webgpu: {
    file: 'suites/webgpu.ts',
    compares: 'fused WebGPU LoRA kernels vs composed ops, on the WebGPU adapter this machine has',
  },
  'train-reads': {
    file: 'suites/train-reads.ts',
    compares: "WebGPU training steps: a loss read per step vs core's train (grouped async reads), Node and Chromium",
  },
};
