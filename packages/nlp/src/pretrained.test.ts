// The committed Moby Dick character LM (models/moby-dick-char, written by scripts/pretrain-moby-dick.ts):
// it loads, is under 5 MB, and its held-out perplexity recomputed here equals the one the script recorded.
import '@tensorflow/tfjs-backend-cpu';
import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { activate, wasmUnavailable } from '../test-support/backends.js';
import { CharTokenizer } from './char-tokenizer.js';
import { perplexity } from './lm-training.js';
import { loadMobyDickLM, MOBY_DICK_LM_URL } from './pretrained.js';
import { loadMobyDick } from './experiments/text-data.js';
import './register-on-import.js';

const wasmReason = await wasmUnavailable();
if (wasmReason) console.warn(`pretrained model: recomputing perplexity on cpu on fewer windows (${wasmReason})`);

describe('the committed Moby Dick LM', () => {
  beforeAll(async () => {
    await activate(wasmReason ? 'cpu' : 'wasm');
  });

  it('is under 5 MB and reproduces its recorded held-out perplexity', async () => {
    const dir = fileURLToPath(MOBY_DICK_LM_URL);
    expect(statSync(`${dir}/weights.bin`).size + statSync(`${dir}/model.json`).size).toBeLessThan(5 * 2 ** 20);
    const { model, info } = await loadMobyDickLM();
    expect(model.countParams()).toBe(statSync(`${dir}/weights.bin`).size / 4);
    const ids = new CharTokenizer().encode(await loadMobyDick());
    const heldOut = ids.subarray(Math.floor(ids.length * (1 - info.heldOutFraction)));
    const windows = wasmReason ? 16 : 128;
    const ppl = perplexity(model, heldOut, { length: info.length, maxWindows: windows });
    if (windows === 128) expect(Math.abs(ppl - info.heldOutPerplexity)).toBeLessThan(1e-2);
    else expect(ppl).toBeLessThan(info.heldOutPerplexity * 1.5);
    expect(info.heldOutPerplexity).toBeLessThan(info.initialPerplexity / 10);
    model.dispose();
    await activate('cpu');
  });
});
