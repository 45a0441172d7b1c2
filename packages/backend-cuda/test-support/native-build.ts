// For tests: whether build:native made a loadable copy of a tfjs-node package, and why not.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BUILD_NATIVE_COMMAND, locateNativePackage, NATIVE_PACKAGES, type NativeFlavor } from '../src/index.js';

/** The package folder holding a built `tfjs_binding.node` for this flavor, or the reason there is none. */
export function builtNativePackage(flavor: NativeFlavor): { dir: string; skip: null } | { dir: null; skip: string } {
  const located = locateNativePackage({ flavor });
  if ('ok' in located) return { dir: null, skip: `${located.reason}` };
  const binding = join(located.packageDir, 'lib', 'napi-v8', 'tfjs_binding.node');
  if (!existsSync(binding)) {
    return {
      dir: null,
      skip: `${NATIVE_PACKAGES[flavor]} has no built binding (${binding}); run ${BUILD_NATIVE_COMMAND}`,
    };
  }
  return { dir: located.packageDir, skip: null };
}
