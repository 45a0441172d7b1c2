// The two ways to a LoraModel, kept apart as PEFT keeps get_peft_model and PeftModel.from_pretrained:
// `applyLora(model, config)` injects fresh adapters; `applyPeftAdapter(model, adapter)` loads a PEFT
// adapter into the model. `applyLora(model, await loadPeftAdapter(dir))` is the shortcut to the second.
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { loraConfig, type LoraConfig, type LoraConfigInput } from './config.js';
import { isDecomposingInit, type DecomposingInit } from './decomposing-init.js';
import { checkAdapterName } from './lora-layer-state.js';
import { LoraModel } from './lora-model.js';
import { isPeftAdapterInput, peftAdapter, type PeftAdapter, type PeftAdapterInput } from './peft/adapter.js';
import { applyPeftPlan, planPeftLoad } from './peft/plan.js';
import {
  registerModelKind,
  requireModelKind,
  type ApplyLoraOptions,
  type LoraModelFor,
  type LoraTargetModel,
  type ModelKind,
} from './model-kind.js';

export type { ApplyLoraOptions } from './model-kind.js';

/** True when `model` is a tf.LayersModel (Sequential or functional). */
function isLayersModel(model: unknown): model is LayersModel {
  return typeof model === 'object' && model !== null && Array.isArray((model as { layers?: unknown }).layers);
}

/** Models that a plugin's model kind handles (none until a plugin augments `LoraModelKinds`). */
type PluginModel = Exclude<LoraTargetModel, LayersModel>;

/** Core's own model kind: tf.LayersModel → LoraModel. Registered on import, tried after every plugin's kind. */
export const layersModelKind: ModelKind<LayersModel, LoraModel> = {
  name: 'layers',
  packageName: '@tfjs-lora/core',
  matches: isLayersModel,
  applyLora(model, config, options) {
    if (isDecomposingInit(config.initLoraWeights)) return LoraModel.createAsync(model, config, options);
    return LoraModel.create(model, config, options);
  },
  applyPeftAdapter(model, adapter, options) {
    const plan = planPeftLoad(model, adapter, options);
    const lm = LoraModel.create(model, plan.config, options);
    try {
      applyPeftPlan(lm, options.adapterName ?? 'default', plan);
    } catch (e) {
      lm.dispose();
      throw e;
    }
    return lm;
  },
};
registerModelKind(layersModelKind);

/**
 * Injects LoRA into a Sequential or functional model (PEFT's `get_peft_model`): every layer the config
 * targets is wrapped in a `LoraLayer`, everything else is frozen except biases per `bias` and
 * `modulesToSave`. The base model is not modified; the returned `model` shares no variables with it. The
 * config is normalised once here (`loraConfig`) and passed on as it is.
 *
 * With `initLoraWeights` 'pissa', 'pissa_niter_K' or 'olora' it returns a promise, on every backend:
 * `const lora = await applyLora(model, { initLoraWeights: 'pissa', ... })`. These decompose each targeted
 * kernel in float64 on the host; on a GPU backend (webgpu, webgl) the kernels are read asynchronously and
 * the decomposition runs on tfjs's cpu backend (which must be registered), with the same numbers as on cpu.
 * The active backend is switched to 'cpu' while that runs, so do not run other tfjs work concurrently.
 * Every other config returns the LoraModel directly.
 *
 * Given a loaded PEFT adapter (`applyLora(model, await loadPeftAdapter(dir))`) instead of a config, this
 * is the shortcut for {@link applyPeftAdapter} (PEFT's `PeftModel.from_pretrained`).
 */
export function applyLora(
  model: LayersModel,
  config: PeftAdapter | PeftAdapterInput,
  options?: ApplyLoraOptions,
): LoraModel;
export function applyLora(
  model: LayersModel,
  config: LoraConfigInput & { initLoraWeights: DecomposingInit },
  options?: ApplyLoraOptions,
): Promise<LoraModel>;
export function applyLora(
  model: LayersModel,
  config: LoraConfigInput & { initLoraWeights?: boolean | 'gaussian' },
  options?: ApplyLoraOptions,
): LoraModel;
export function applyLora(
  model: LayersModel,
  config: LoraConfig | LoraConfigInput | PeftAdapter | PeftAdapterInput,
  options?: ApplyLoraOptions,
): LoraModel | Promise<LoraModel>;
export function applyLora<M extends PluginModel>(
  model: M,
  config: PeftAdapter | PeftAdapterInput,
  options?: ApplyLoraOptions,
): LoraModelFor<M>;
export function applyLora<M extends PluginModel>(
  model: M,
  config: LoraConfigInput & { initLoraWeights: DecomposingInit },
  options?: ApplyLoraOptions,
): Promise<LoraModelFor<M>>;
export function applyLora<M extends PluginModel>(
  model: M,
  config: LoraConfigInput & { initLoraWeights?: boolean | 'gaussian' },
  options?: ApplyLoraOptions,
): LoraModelFor<M>;
export function applyLora(
  model: unknown,
  config: LoraConfig | LoraConfigInput | PeftAdapter | PeftAdapterInput,
  options: ApplyLoraOptions = {},
): unknown {
  const kind = requireModelKind(model, 'applyLora');
  if (isPeftAdapterInput(config)) return applyPeftAdapter(model as LayersModel, config, options);
  checkAdapterName(options.adapterName ?? 'default');
  return kind.applyLora(model, loraConfig(config as LoraConfigInput), options);
}

/**
 * Loads a PEFT adapter into a model (PEFT's `PeftModel.from_pretrained`); pass what `loadPeftAdapter`
 * returned. Modules are mapped to layers (`moduleMap`, `strict`), every shape is checked before anything is
 * built (ShapeMismatchError names the layer and both shapes), the model is wrapped with the config the
 * adapter needs, then the adapter's tensors are copied in, converted to tfjs layouts. The adapter can be
 * disposed afterwards. `applyLora(model, adapter)` is a shortcut for this.
 */
export function applyPeftAdapter(
  model: LayersModel,
  adapter: PeftAdapter | PeftAdapterInput,
  options?: ApplyLoraOptions,
): LoraModel;
export function applyPeftAdapter<M extends PluginModel>(
  model: M,
  adapter: PeftAdapter | PeftAdapterInput,
  options?: ApplyLoraOptions,
): LoraModelFor<M>;
export function applyPeftAdapter(
  model: unknown,
  adapter: PeftAdapter | PeftAdapterInput,
  options: ApplyLoraOptions = {},
): unknown {
  const kind = requireModelKind(model, 'applyPeftAdapter');
  return kind.applyPeftAdapter(model, peftAdapter(adapter), options);
}
