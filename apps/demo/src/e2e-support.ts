// Settings and checks of the demo's browser end-to-end test (src/e2e.browser.test.ts): the two training
// runs, the adapter shapes they must download, and the Node-side check of the downloaded PEFT files.
import { expect } from 'vitest';

/** A finished training run as the page shows it (`#result` data attributes, `#backend-status`). */
export interface RunResult {
  /** The backend the page's status names (core's LoRA backend). */
  backend: string;
  /** tfjs's active backend in the worker when training ended. */
  tfBackend: string;
  firstLoss: number;
  lastLoss: number;
  baseAccuracy: number;
  accuracy: number;
  baseTestLoss: number;
  testLoss: number;
  seconds: number;
}

// wasm trains the CNN's four layers in about a second; WebGPU on SwiftShader (CPU) spends most of its
// time compiling shaders, so its run is LoRA on the dense layers (fused LoraMatMul kernels), 6 steps.
/** Every target of the vision task. */
export const ALL = ['conv1', 'conv2', 'fc1', 'head'];
/** The form of the wasm run (12 steps). */
export const WASM_RUN = {
  epochs: '1',
  'train-size': '384',
  'test-size': '300',
  batch: '32',
  lr: '0.006',
  rank: '4',
  alpha: '8',
};
/** The form of the webgpu run (6 steps). */
export const WEBGPU_RUN = { ...WASM_RUN, 'train-size': '192', 'test-size': '200', lr: '0.01' };
/** PEFT shapes of the dense layers' factors at r = 4. */
export const DENSE_SHAPES = {
  'fc1.lora_A.weight': [4, 1600],
  'fc1.lora_B.weight': [128, 4],
  'head.lora_A.weight': [4, 128],
  'head.lora_B.weight': [10, 4],
};

/** One line for the test log. */
export const describeRun = (r: RunResult): string =>
  `${r.backend}: training loss ${r.firstLoss.toFixed(3)} -> ${r.lastLoss.toFixed(3)}, test loss ${r.baseTestLoss.toFixed(3)} -> ${r.testLoss.toFixed(3)}, ` +
  `test accuracy ${r.baseAccuracy.toFixed(3)} -> ${r.accuracy.toFixed(3)} (${r.seconds.toFixed(1)} s)`;

/** The run trained on `backend` (the page's status and the worker's tf.getBackend()) and learned. */
export function expectLearned(r: RunResult, backend: string): void {
  expect(r.backend).toBe(backend);
  expect(r.tfBackend).toBe(backend);
  expect(r.lastLoss).toBeLessThan(r.firstLoss);
  expect(r.testLoss).toBeLessThan(r.baseTestLoss);
  expect(r.accuracy).toBeGreaterThan(r.baseAccuracy);
}

/** Loads the downloaded PEFT folder with core's loader in Node: r = 4, alpha = 8, every shape, a trained B. */
export async function checkPeftDownload(dir: string, shapes: Record<string, number[]>): Promise<void> {
  await import('@tensorflow/tfjs-backend-cpu');
  const { loadPeftAdapter } = await import('@tfjs-lora/core');
  const adapter = await loadPeftAdapter(dir);
  try {
    expect(adapter.config.r).toBe(4);
    expect(adapter.config.loraAlpha).toBe(8);
    const found = Object.fromEntries(
      Object.entries(adapter.tensors).map(([k, t]) => [k.replace('base_model.model.', ''), t.shape]),
    );
    expect(found).toEqual(shapes);
    // Trained: B started at zero, so a non-zero B shows the download holds the trained weights.
    const b = adapter.tensors['base_model.model.head.lora_B.weight']!;
    expect(Math.max(...Array.from(await b.data()).map(Math.abs))).toBeGreaterThan(0);
  } finally {
    adapter.dispose();
  }
}
