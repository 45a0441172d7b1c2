// The inputs of a next-token model: the token ids alone, or the named inputs of a Hugging Face model.
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { LoraError } from '@tfjs-lora/core';

const FILLERS: Record<string, (ids: tf.Tensor2D) => tf.Tensor> = {
  input_ids: (ids) => ids,
  attention_mask: (ids) => tf.onesLike(ids),
  token_type_ids: (ids) => tf.zerosLike(ids),
};

/**
 * What a next-token model takes for the ids [batch, time]: the ids themselves when it has one input (nlp's
 * `transformerLM`, a char LM), or, for a model with inputs named as a Hugging Face forward's arguments (the
 * 'hf-text' format's GPT-2), one tensor per `model.inputNames`: `input_ids`, an all-ones `attention_mask`
 * and all-zero `token_type_ids` (windows of text have no padding). Call it inside `tf.tidy` (or a gradient
 * function): the mask tensors are new.
 */
export function lmInputs(model: tfl.LayersModel, ids: tf.Tensor2D): tf.Tensor | tf.Tensor[] {
  if (model.inputs.length === 1) return ids;
  const unknown = model.inputNames.filter((n) => !(n in FILLERS));
  if (unknown.length > 0 || !model.inputNames.includes('input_ids'))
    throw new LoraError(
      `A next-token model takes one input (token ids) or inputs named input_ids, attention_mask, token_type_ids; found ${model.inputNames.join(', ')}. Wrap the model so that it takes the ids alone.`,
    );
  return model.inputNames.map((n) => FILLERS[n]!(ids));
}
