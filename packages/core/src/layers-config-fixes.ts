// tfjs-layers 4.22's SeparableConv2D.getConfig() leaves out `depthMultiplier`, so a model with
// depth_multiplier ≠ 1 does not survive model.save() / loadLayersModel or applyLora's rebuild (the weights
// no longer fit). This adds the key back when it is missing. Applied once: by applyLora's rebuild and by
// model loaders (@tfjs-lora/keras).
import * as tf from '@tensorflow/tfjs-core';

type GetConfig = (this: { depthMultiplier?: number }) => tf.serialization.ConfigDict;

let done = false;

/** The prototype of the tfjs-layers class registered as `className` (for core's patches), or undefined. */
export function layerClassPrototype<P>(className: string): P | undefined {
  const entry = tf.serialization.SerializationMap.getMap().classNameMap[className];
  return entry === undefined ? undefined : (entry[0] as unknown as { prototype: P }).prototype;
}

/**
 * Makes tfjs-layers' SeparableConv2D.getConfig() include `depthMultiplier`, which 4.22 leaves out (so a
 * depth multiplier ≠ 1 is lost on `model.save()` and on applyLora's rebuild). Idempotent; a no-op where
 * tfjs-layers keeps the key. Core calls it before rebuilding a model; call it before `model.save()` of a
 * model you built yourself with such a layer.
 */
export function ensureLayersConfigFixes(): void {
  if (done) return;
  done = true;
  const proto = layerClassPrototype<{ getConfig: GetConfig }>('SeparableConv2D');
  if (proto === undefined) return;
  const original = proto.getConfig;
  proto.getConfig = function (this: { depthMultiplier?: number }) {
    const config = original.call(this);
    if (config['depthMultiplier'] === undefined && this.depthMultiplier !== undefined)
      config['depthMultiplier'] = this.depthMultiplier;
    return config;
  };
}
