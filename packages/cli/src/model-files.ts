// Deprecated names of the CLI's model folder helpers: the one copy lives in @tfjs-lora/core/node.
import type * as tfl from '@tensorflow/tfjs-layers';
import { loadModelFiles, saveModelFiles } from '@tfjs-lora/core/node';

/** @deprecated use `(await loadModelFiles(path)).model` of `@tfjs-lora/core/node`; removed in 0.3 */
export async function loadModelFile(modelJsonPath: string): Promise<tfl.LayersModel> {
  return (await loadModelFiles(modelJsonPath)).model;
}

/** @deprecated use `saveModelFiles(model, dir)` of `@tfjs-lora/core/node`; removed in 0.3 */
export async function saveModelDir(model: tfl.LayersModel, dir: string): Promise<void> {
  await saveModelFiles(model, dir, { convertedBy: 'tfjs-lora merge' });
}
