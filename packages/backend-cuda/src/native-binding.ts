// Finds and loads @tensorflow/tfjs-node(-gpu), lazily, and says exactly why it cannot be used.
import * as tf from '@tensorflow/tfjs-core';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { classifyLoadError, type UnavailableKind } from './unavailable-reason.js';

/** Which native package: 'cpu' is @tensorflow/tfjs-node, 'gpu' is @tensorflow/tfjs-node-gpu. */
export type NativeFlavor = 'cpu' | 'gpu';

/** The npm package of each flavor. */
export const NATIVE_PACKAGES: Readonly<Record<NativeFlavor, string>> = {
  cpu: '@tensorflow/tfjs-node',
  gpu: '@tensorflow/tfjs-node-gpu',
};

/** The sub-folder of a build:native cache folder holding each flavor's package copy. */
const CACHE_FOLDERS: Readonly<Record<NativeFlavor, string>> = { cpu: 'tfjs-node', gpu: 'tfjs-node-gpu' };

/** Where to look for the binding; every field is optional. */
export interface NativeBindingOptions {
  /** Default 'cpu'. */
  flavor?: NativeFlavor;
  /** The package to load (default {@link NATIVE_PACKAGES}[flavor]); a build:native cache is used only for the default name. */
  packageName?: string;
  /** An explicit tfjs-node(-gpu) package folder to load; skips every other lookup. */
  packageDir?: string;
  /**
   * A folder made by `build:native` (holding `tfjs-node/`, `tfjs-node-gpu/`). Default: `TFJS_LORA_NATIVE_DIR`,
   * else the first `.cache/tfjs-native` in a folder above this package. When it holds no copy of the
   * package, the installed package is loaded.
   */
  nativeDir?: string;
}

/** A loaded binding, or why there is none. */
export type NativeBindingStatus =
  | { ok: true; flavor: NativeFlavor; packageName: string; packageDir: string; gpu: boolean; tensorflowVersion: string }
  | { ok: false; kind: UnavailableKind; reason: string; packageName: string; packageDir?: string };

/** The part of tfjs-node's NodeJSKernelBackend this package uses. */
export interface NodeKernelBackend extends tf.KernelBackend {
  readonly binding: {
    readonly TF_Version: string;
    readonly TF_ATTR_TYPE: number;
    readonly TF_ATTR_BOOL: number;
    readonly TF_FLOAT: number;
  };
  readonly isUsingGpuDevice: boolean;
  readonly isGPUPackage: boolean;
  executeSingleOutput(
    name: string,
    attrs: { name: string; type: number; value: unknown }[],
    inputs: tf.TensorInfo[],
  ): tf.Tensor;
}

type Loaded = Extract<NativeBindingStatus, { ok: true }>;
/** The package that registered tfjs's 'tensorflow' backend in this process (only one can). */
let owner: Loaded | null = null;

function env(name: string): string | undefined {
  return (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[name];
}

/** The first `.cache/tfjs-native` in `from` or a folder above it, or undefined. */
export function findNativeCacheDir(from: string = dirname(fileURLToPath(import.meta.url))): string | undefined {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    const candidate = join(dir, '.cache', 'tfjs-native');
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

/** The package folder to load for these options, or a 'package-missing' status. */
export function locateNativePackage(
  options: NativeBindingOptions = {},
): { packageDir: string } | Extract<NativeBindingStatus, { ok: false }> {
  const flavor = options.flavor ?? 'cpu';
  const packageName = options.packageName ?? NATIVE_PACKAGES[flavor];
  if (options.packageDir) return { packageDir: resolve(options.packageDir) };
  if (packageName === NATIVE_PACKAGES[flavor]) {
    const nativeDir = options.nativeDir ?? env('TFJS_LORA_NATIVE_DIR') ?? findNativeCacheDir();
    const copy = nativeDir ? join(nativeDir, CACHE_FOLDERS[flavor]) : undefined;
    if (copy && existsSync(join(copy, 'package.json'))) return { packageDir: copy };
  }
  try {
    return { packageDir: dirname(createRequire(import.meta.url).resolve(`${packageName}/package.json`)) };
  } catch (e) {
    return { ok: false, packageName, ...classifyLoadError(e, packageName) };
  }
}

function loadedStatus(
  backend: NodeKernelBackend,
  flavor: NativeFlavor,
  packageName: string,
  packageDir: string,
): Loaded {
  return {
    ok: true,
    flavor,
    packageName,
    packageDir,
    gpu: backend.isUsingGpuDevice === true,
    tensorflowVersion: String(backend.binding.TF_Version),
  };
}

/**
 * Loads the native binding once (lazily: nothing native is touched before the first call) and reports
 * it: the package folder, whether TensorFlow uses a GPU, its version. Never throws. Loading registers
 * tfjs's 'tensorflow' backend; the active tfjs backend, if one was set, is restored. Only one tfjs-node
 * package can own 'tensorflow' in a process: asking for the other flavor afterwards reports that.
 * TensorFlow's C++ info logging is turned down (TF_CPP_MIN_LOG_LEVEL=2) unless already set.
 */
export async function loadNativeBinding(options: NativeBindingOptions = {}): Promise<NativeBindingStatus> {
  const flavor = options.flavor ?? 'cpu';
  const packageName = options.packageName ?? NATIVE_PACKAGES[flavor];
  const located = locateNativePackage(options);
  if ('ok' in located) return located;
  const { packageDir } = located;
  if (owner) {
    if (owner.packageDir === packageDir) return owner;
    return {
      ok: false,
      kind: 'load-failed',
      packageName,
      packageDir,
      reason: `${owner.packageName} (${owner.packageDir}) already provides tfjs's 'tensorflow' backend in this process, and only one tfjs-node package can; use one of @tensorflow/tfjs-node and @tensorflow/tfjs-node-gpu per process`,
    };
  }
  const existing = tf.engine().registry['tensorflow'] as NodeKernelBackend | undefined;
  if (existing?.binding) {
    // The application imported tfjs-node itself: use that binding.
    owner = loadedStatus(
      existing,
      existing.isGPUPackage ? 'gpu' : 'cpu',
      existing.isGPUPackage ? NATIVE_PACKAGES.gpu : NATIVE_PACKAGES.cpu,
      '(loaded by the application)',
    );
    return owner;
  }
  const previous = tf.engine().backendName;
  const proc = (globalThis as { process?: { env: Record<string, string | undefined> } }).process;
  if (proc && proc.env['TF_CPP_MIN_LOG_LEVEL'] === undefined) proc.env['TF_CPP_MIN_LOG_LEVEL'] = '2';
  // tfjs warns once per kernel when a package's kernels are registered again (a retried or second
  // copy): hide that while loading (tfjs's log.warn is silent in PROD mode).
  const prod = tf.env().getBool('PROD');
  tf.env().set('PROD', true);
  try {
    createRequire(import.meta.url)(packageDir);
  } catch (e) {
    return { ok: false, packageName, packageDir, ...classifyLoadError(e, packageName, packageDir) };
  } finally {
    tf.env().set('PROD', prod);
  }
  const backend = tf.findBackend('tensorflow') as NodeKernelBackend | null;
  if (!backend?.binding) {
    return {
      ok: false,
      kind: 'load-failed',
      packageName,
      packageDir,
      reason: `${packageName} loaded from ${packageDir} but registered no working 'tensorflow' backend`,
    };
  }
  if (previous && previous !== 'tensorflow') await tf.setBackend(previous);
  owner = loadedStatus(backend, flavor, packageName, packageDir);
  return owner;
}

/** The binding that owns tfjs's 'tensorflow' backend in this process, if one was loaded. */
export function loadedNativeBinding(): NativeBindingStatus | null {
  return owner;
}
