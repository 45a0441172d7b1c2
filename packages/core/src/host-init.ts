// PiSSA and OLoRA decompose W (SVD, QR) in float64 on the host. On cpu, wasm and tensorflow that reads
// synchronously as before; on a GPU backend (webgpu, webgl) the targeted layers' weights are read once
// asynchronously, the initialisation runs on tfjs's cpu backend on those values (so the numbers are the cpu
// numbers), and the active backend is restored: tfjs moves the new weights back to the GPU on first use.
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';

import type { LoraConfig } from './config.js';
import { LoraError } from './errors/index.js';
import { initAdapter, loraLayersOf } from './inject.js';
import { canReadSync } from './sync-read.js';

/**
 * {@link initAdapter} that needs no synchronous read from a GPU: on cpu, wasm and tensorflow it is
 * `initAdapter` itself; elsewhere the targeted layers' weights are read with `await data()`, the
 * initialisation runs on the cpu backend, and the previous backend is set again (even when it throws).
 */
export async function initAdapterAsync(
  model: LayersModel,
  name: string,
  config: LoraConfig,
  targets: ReadonlySet<string>,
  seed?: number,
): Promise<void> {
  if (canReadSync()) {
    initAdapter(model, name, config, targets, seed);
    return;
  }
  const previous = tf.getBackend();
  if (!tf.findBackendFactory('cpu')) {
    throw new LoraError(
      `initLoraWeights '${String(config.initLoraWeights)}' decomposes each kernel on the host and runs on tfjs's ` +
        `cpu backend when the '${previous}' backend cannot read synchronously, but no cpu backend is registered; ` +
        `import '@tensorflow/tfjs-backend-cpu' (or '@tensorflow/tfjs'), or initialise with initLoraWeights: true.`,
    );
  }
  const variables = loraLayersOf(model)
    .filter(({ path }) => targets.has(path))
    .flatMap(({ layer }) => layer.weights);
  const values = await Promise.all(variables.map((v) => v.read().data()));
  await tf.setBackend('cpu');
  try {
    variables.forEach((v, i) => {
      const host = tf.tensor(values[i]!, v.shape as number[], v.dtype);
      v.write(host); // the variable takes a reference to the cpu copy
      host.dispose();
    });
    initAdapter(model, name, config, targets, seed);
  } finally {
    await tf.setBackend(previous);
  }
}
