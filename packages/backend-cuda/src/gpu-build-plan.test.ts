// build:native:gpu --dry-run and packages/bench/scripts/cuda-device.sh --dry-run, run for real (no GPU
// needed): against a PEP 503 index the test writes (wheel files named as pip names them), the dry run finds
// each wheel with its size or names the missing ones, and says ready only when all are there; the device
// script prints its plan (build, check-gpu, conformance on cuda, the webgpu and cuda benchmarks) and fails
// its dry run while the GPU build is not ready. Skips with the reason without bash or python3 + pip.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const PKG = fileURLToPath(new URL('..', import.meta.url));
const BUILD = join(PKG, 'scripts', 'build-native-gpu.sh');
const DEVICE = join(PKG, '..', 'bench', 'scripts', 'cuda-device.sh');
const probe = spawnSync('python3', ['-c', 'import pip._vendor.packaging.specifiers'], { encoding: 'utf8' });
const skip =
  spawnSync('bash', ['--version']).status !== 0
    ? 'bash is not installed'
    : probe.status !== 0
      ? `python3 with pip is needed by the scripts (${(probe.stderr || String(probe.error)).trim().split('\n').pop()})`
      : null;
if (skip) console.warn(`gpu-build-plan: skipped: ${skip}`);

// tensorflow 2.21.0's [and-cuda] extra, as its METADATA lists it (the versions are the lowest allowed).
const AND_CUDA: [string, string][] = [
  ['nvidia-cublas-cu12', '12.5.3.2'],
  ['nvidia-cuda-cupti-cu12', '12.5.82'],
  ['nvidia-cuda-nvcc-cu12', '12.5.82'],
  ['nvidia-cuda-nvrtc-cu12', '12.5.82'],
  ['nvidia-cuda-runtime-cu12', '12.5.82'],
  ['nvidia-cudnn-cu12', '9.3.0.75'],
  ['nvidia-cufft-cu12', '11.2.3.61'],
  ['nvidia-curand-cu12', '10.3.6.82'],
  ['nvidia-cusolver-cu12', '11.6.3.83'],
  ['nvidia-cusparse-cu12', '12.5.1.3'],
  ['nvidia-nccl-cu12', '2.27.7'],
  ['nvidia-nvjitlink-cu12', '12.5.82'],
];

const root = mkdtempSync(join(tmpdir(), 'tfjs-lora-gpu-index-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Adds a wheel of `bytes` bytes to the index under `dir`; returns its file name. */
function addWheel(
  dir: string,
  name: string,
  version: string,
  bytes: number,
  tag = 'py3-none-manylinux_2_27_x86_64',
): string {
  const file = `${name.replace(/-/g, '_')}-${version}-${tag}.whl`;
  mkdirSync(join(dir, 'files'), { recursive: true });
  mkdirSync(join(dir, 'simple', name), { recursive: true });
  writeFileSync(join(dir, 'files', file), Buffer.alloc(bytes));
  const page = join(dir, 'simple', name, 'index.html');
  const html = existsSync(page) ? readFileSync(page, 'utf8') : '';
  writeFileSync(page, `${html}<a href="../../files/${file}#sha256=0">${file}</a>\n`);
  return file;
}

function run(script: string, index: string, extraEnv: Record<string, string> = {}) {
  const r = spawnSync('bash', [script, '--dry-run'], {
    encoding: 'utf8',
    env: { ...process.env, TFJS_LORA_PIP_INDEXES: `file://${index}/simple`, ...extraEnv },
    timeout: 120_000,
  });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe.skipIf(skip !== null)('build:native:gpu --dry-run and cuda-device.sh --dry-run', () => {
  it('names every missing wheel and is not ready; with all of them it finds each with its size and is ready', () => {
    const index = join(root, 'partial');
    addWheel(index, 'tensorflow', '2.20.0', 10, 'cp311-cp311-manylinux_2_27_x86_64'); // wrong version
    addWheel(index, 'tensorflow', '2.21.0', 3 << 20, 'cp311-cp311-manylinux_2_27_x86_64');
    addWheel(index, 'tensorflow', '2.21.0', 10, 'cp311-cp311-macosx_12_0_arm64'); // not this platform
    for (const [name, version] of AND_CUDA.slice(1)) addWheel(index, name, version, 2 << 20);
    addWheel(index, 'nvidia-cublas-cu12', '13.0.0', 10); // outside <13.0
    const partial = run(BUILD, index);
    expect(partial.status, partial.out).toBe(1);
    expect(partial.out).toMatch(
      /found tensorflow 2\.21\.0 3MB file:\/\/.*tensorflow-2\.21\.0-cp311-cp311-manylinux_2_27_x86_64\.whl/,
    );
    expect(partial.out).toContain('missing nvidia-cublas-cu12 <13.0,>=12.5.3.2');
    expect(partial.out).toContain(
      'dry run: NOT READY (1 problem(s)): 1 wheel(s) not in the pip indexes: nvidia-cublas-cu12',
    );
    for (const [name, version] of AND_CUDA.slice(1)) expect(partial.out).toContain(`found ${name} ${version} 2MB`);
    expect(partial.out).not.toMatch(/would download[\s\S]*downloaded/); // a dry run downloads nothing

    addWheel(index, 'nvidia-cublas-cu12', '12.9.1.4', 1 << 20);
    const full = run(BUILD, index);
    expect(full.status, full.out).toBe(0);
    expect(full.out).toContain('found nvidia-cublas-cu12 12.9.1.4 1MB');
    expect(full.out.match(/^build:native:gpu: {3}found /gm)).toHaveLength(13);
    expect(full.out).toContain('dry run: ready');
    for (const s of [
      'would extract libtensorflow_cc.so.2',
      'LD_LIBRARY_PATH=',
      'node-pre-gyp install --build-from-source',
      "'GPU: present' or 'GPU: absent'",
    ])
      expect(full.out).toContain(s);
  });

  it('with an empty index every one of the 13 wheels is missing', () => {
    const empty = join(root, 'empty');
    mkdirSync(join(empty, 'simple'), { recursive: true });
    const r = run(BUILD, empty);
    expect(r.status, r.out).toBe(1);
    expect(r.out.match(/^build:native:gpu: {3}missing /gm)).toHaveLength(13);
    expect(r.out).toContain('13 wheel(s) not in the pip indexes: tensorflow==2.21.0');
  });

  it('cuda-device.sh prints the whole plan and is not ready while build:native:gpu is not', () => {
    const empty = join(root, 'empty');
    const r = run(DEVICE, empty, { OUT: join(root, 'out') });
    expect(r.status, r.out).toBe(1);
    for (const s of [
      'step 2: an NVIDIA GPU: nvidia-smi -L',
      'build:native:gpu: step 2: find tensorflow==2.21.0',
      'MISSING: build:native:gpu is not ready: 13 wheel(s) not in the pip indexes',
      'would run: node',
      'check-gpu.mjs',
      'TFJS_LORA_REQUIRE_NATIVE=1',
      'src/native-cuda.test.ts',
      'pnpm bench webgpu',
      'dry run: NOT READY',
    ])
      expect(r.out).toContain(s);
    // train-reads runs once per backend where the suite exists, and is named as missing where it does not.
    expect(r.out).toMatch(
      /pnpm bench train-reads --backend webgpu[\s\S]*--backend cuda|MISSING: bench suite 'train-reads'/,
    );
  });
});
