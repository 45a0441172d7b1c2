// Turns the errors of loading @tensorflow/tfjs-node(-gpu) into a kind and an actionable message.
import { CUDA_REQUIREMENT } from './cuda-libraries.js';

/**
 * Why the native binding cannot be used: the npm package is absent, its compiled addon
 * (`tfjs_binding.node`) is absent, a shared library it links (libtensorflow, CUDA, cuDNN) is absent,
 * the binding loaded but TensorFlow sees no GPU (cuda only), or another load failure.
 */
export type UnavailableKind = 'package-missing' | 'addon-missing' | 'library-missing' | 'no-gpu' | 'load-failed';

/** The command that builds this repository's copy of the binding (see scripts/build-native-binding.sh). */
export const BUILD_NATIVE_COMMAND = 'pnpm --filter @tfjs-lora/backend-cuda build:native';

/** The shared library named in a loader error ("libX.so.N: cannot open shared object file"), if any. */
export function missingLibraryIn(message: string): string | null {
  return /([\w.+-]+\.so(?:\.[\d.]+)?): cannot open shared object file/.exec(message)?.[1] ?? null;
}

/** True for an error that says `packageName` itself cannot be resolved (not one of its dependencies). */
function isPackageNotFound(e: unknown, packageName: string): boolean {
  const err = e as { code?: string; message?: string };
  return err?.code === 'MODULE_NOT_FOUND' && (err.message ?? '').includes(`'${packageName}`);
}

/** Classifies an error thrown while loading `packageName` (from `packageDir` when known). */
export function classifyLoadError(
  e: unknown,
  packageName: string,
  packageDir?: string,
): { kind: UnavailableKind; reason: string } {
  const message = (e as Error)?.message ?? String(e);
  if (isPackageNotFound(e, packageName)) {
    return {
      kind: 'package-missing',
      reason: `${packageName} is not installed. Install it: npm install ${packageName}@4.22.0 (its install script downloads libtensorflow; where that host is unreachable, build the binding from source: ${BUILD_NATIVE_COMMAND})`,
    };
  }
  if (/tfjs_binding\.node\) can not be found/.test(message)) {
    const at =
      /at path: (\S+?)\.?\s/.exec(message)?.[1] ?? `${packageDir ?? packageName}/lib/napi-v8/tfjs_binding.node`;
    return {
      kind: 'addon-missing',
      reason:
        `${packageName}'s native addon is missing (${at}). Rebuild it: npm rebuild ${packageName} --build-addon-from-source; ` +
        `in this repository, where libtensorflow cannot be downloaded: ${BUILD_NATIVE_COMMAND} (then it is found in .cache/tfjs-native or TFJS_LORA_NATIVE_DIR)`,
    };
  }
  const lib = missingLibraryIn(message);
  if (lib && /^lib(cuda|cudart|cublas|cufft|curand|cusolver|cusparse|cudnn|nvinfer)/.test(lib)) {
    return {
      kind: 'library-missing',
      reason: `${packageName} cannot load ${lib}: ${CUDA_REQUIREMENT}. Install them and put their folder on LD_LIBRARY_PATH.`,
    };
  }
  if (lib) {
    return {
      kind: 'library-missing',
      reason:
        `${packageName}'s binding cannot load ${lib} (${message.split('\n')[0]}). libtensorflow is expected in ${packageDir ?? packageName}/deps/lib ` +
        `(the binding's rpath) or on LD_LIBRARY_PATH; reinstall ${packageName} or rebuild: ${BUILD_NATIVE_COMMAND}`,
    };
  }
  return { kind: 'load-failed', reason: `${packageName} failed to load: ${message.split('\n')[0]}` };
}
