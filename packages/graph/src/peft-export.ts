// A graph adapter in PEFT's files, and a PEFT adapter back onto a GraphModel. Module paths are node
// names with '/' → '.'; factors are converted between tfjs and PyTorch layouts (factors.ts).
import * as tf from '@tensorflow/tfjs-core';
import { AdapterFormatError, ShapeMismatchError, toPeftJson, type LoraConfig, type PeftAdapter } from '@tfjs-lora/core';
import { factorKey } from '@tfjs-lora/core/peft';
import { fromTorch, toTorch, torchShapes } from './factors.js';
import type { GraphTarget } from './targets.js';

/** PEFT's config object and tensors (PyTorch layout, new tensors) of one adapter. */
export function peftTensorsOf(
  config: LoraConfig,
  factors: ReadonlyMap<string, { loraA: tf.Tensor; loraB: tf.Tensor }>,
  targets: ReadonlyMap<string, GraphTarget>,
): { config: Record<string, unknown>; tensors: Record<string, tf.Tensor> } {
  const tensors: Record<string, tf.Tensor> = {};
  for (const [path, f] of factors) {
    const kind = targets.get(path)!.kind;
    tensors[factorKey(path, 'lora_A')] = toTorch(kind, 'loraA', f.loraA);
    tensors[factorKey(path, 'lora_B')] = toTorch(kind, 'loraB', f.loraB);
  }
  return { config: toPeftJson(config), tensors };
}

/**
 * The factors of a loaded PEFT adapter for the graph's targets (tfjs layouts, new tensors): every module
 * must name a targetable node with the shapes its weight implies; nothing is kept when one does not.
 */
export function factorsFromPeft(
  adapter: PeftAdapter,
  target: (path: string) => GraphTarget | undefined,
  known: readonly string[],
): Map<string, { loraA: tf.Tensor; loraB: tf.Tensor; scaling: number }> {
  if (adapter.moduleWeights.length > 0)
    throw new AdapterFormatError(
      `Expected an adapter with LoRA factors only; found ${adapter.moduleWeights.map((m) => `${m.role} of ${m.path}`).join(', ')}. ` +
        'modules_to_save, base_layer and bias tensors are not supported on GraphModels yet.',
    );
  if (adapter.modules.some((m) => m.magnitude !== undefined))
    throw new AdapterFormatError(
      'Expected a LoRA adapter; found DoRA magnitudes, which GraphModels do not support yet.',
    );
  const out = new Map<string, { loraA: tf.Tensor; loraB: tf.Tensor; scaling: number }>();
  try {
    for (const m of adapter.modules) {
      const t = target(m.path);
      if (!t)
        throw new AdapterFormatError(
          `The adapter's module '${m.path}' is not a node of this GraphModel that can take LoRA. ` +
            `Module paths are node names with '/' read as '.'; targetable modules: ${known.slice(0, 20).join(', ')}${known.length > 20 ? ', …' : ''}.`,
        );
      const want = torchShapes(t, m.r);
      for (const [name, got, exp] of [
        ['lora_A', m.loraA.shape, want.loraA],
        ['lora_B', m.loraB.shape, want.loraB],
      ] as const)
        if (got.length !== exp.length || got.some((v, i) => v !== exp[i]))
          throw new ShapeMismatchError(
            `Module '${m.path}' (${t.op}, weight [${t.shape.join(', ')}]): expected ${name} of shape [${exp.join(', ')}], found [${got.join(', ')}]. ` +
              'The adapter was trained for another model or layer kind.',
          );
      out.set(m.path, {
        loraA: fromTorch(t, 'loraA', m.loraA, m.r),
        loraB: fromTorch(t, 'loraB', m.loraB, m.r),
        scaling: m.scaling,
      });
    }
  } catch (e) {
    for (const f of out.values()) tf.dispose([f.loraA, f.loraB]);
    throw e;
  }
  return out;
}
