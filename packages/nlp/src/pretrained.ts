import * as tfl from '@tensorflow/tfjs-layers';
import { CharTokenizer } from './char-tokenizer.js';
import { loadModelFiles, nodeFileURLToPath } from '@tfjs-lora/core/node';
import type { TransformerConfig } from './transformer.js';

/** Where the committed Moby Dick character model lives (`models/moby-dick-char/` in this package). */
export const MOBY_DICK_LM_URL: URL = new URL('../models/moby-dick-char/', import.meta.url);

/** What `scripts/pretrain-moby-dick.ts` recorded about the model it trained. */
export interface PretrainedInfo {
  /** Architecture. */
  config: TransformerConfig;
  /** Training window length (tokens). */
  length: number;
  /** Optimizer steps. */
  steps: number;
  /** Windows per step. */
  batchSize: number;
  /** Adam learning rate. */
  learningRate: number;
  /** Character share of the text held out (the end of the book). */
  heldOutFraction: number;
  /** Perplexity per character on the held-out end of the book after training. */
  heldOutPerplexity: number;
  /** The same before training. */
  initialPerplexity: number;
  /** Wall time of training, seconds. */
  trainSeconds: number;
  /** The tfjs backend it trained on. */
  backend: string;
}

/**
 * Loads the tiny decoder-only character LM pretrained on Moby Dick that ships with this package (or the same
 * files from `source`: a directory path or file: URL in Node, an http(s) URL of the folder elsewhere).
 */
export async function loadMobyDickLM(
  source: string | URL = MOBY_DICK_LM_URL,
): Promise<{ model: tfl.LayersModel; tokenizer: CharTokenizer; info: PretrainedInfo }> {
  const href = source.toString();
  if (/^https?:/i.test(href)) {
    const model = await tfl.loadLayersModel(`${href.replace(/\/?$/, '/')}model.json`);
    return { model, tokenizer: new CharTokenizer(), info: model.getUserDefinedMetadata() as unknown as PretrainedInfo };
  }
  const fileURLToPath = await nodeFileURLToPath('load models from an http(s) URL instead');
  const dir = source instanceof URL || href.startsWith('file:') ? fileURLToPath(source) : href;
  const { model, metadata } = await loadModelFiles(dir);
  return { model, tokenizer: new CharTokenizer(), info: metadata as unknown as PretrainedInfo };
}
