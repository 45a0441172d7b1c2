// Node only: finds the system libraries Dawn loads at run time (it dlopens them, so a missing one only
// shows up as "no adapter"). Looking for them ourselves lets isAvailable() name the missing file.

interface FsApi {
  existsSync(path: string): boolean;
  readdirSync(path: string): string[];
  readFileSync(path: string, encoding: 'utf8'): string;
}

/** Imports a Node built-in without making bundlers for the browser resolve it. */
export async function nodeBuiltin<T>(name: string): Promise<T> {
  const specifier = `node:${name}`;
  return (await import(/* @vite-ignore */ specifier)) as T;
}

/** The folders the dynamic loader searches: LD_LIBRARY_PATH, /etc/ld.so.conf.d, then the defaults. */
export async function librarySearchPath(env: Record<string, string | undefined>): Promise<string[]> {
  const fs = await nodeBuiltin<FsApi>('fs');
  const dirs = (env['LD_LIBRARY_PATH'] ?? '').split(':').filter(Boolean);
  try {
    for (const f of fs.readdirSync('/etc/ld.so.conf.d').filter((n) => n.endsWith('.conf'))) {
      for (const line of fs.readFileSync(`/etc/ld.so.conf.d/${f}`, 'utf8').split('\n')) {
        const d = line.trim();
        if (d.startsWith('/')) dirs.push(d);
      }
    }
  } catch {
    // no ld.so.conf.d (not glibc Linux): the defaults below still apply
  }
  const arch = (globalThis as { process?: { arch?: string } }).process?.arch;
  const triplet = arch === 'arm64' ? 'aarch64-linux-gnu' : 'x86_64-linux-gnu';
  dirs.push(`/lib/${triplet}`, `/usr/lib/${triplet}`, '/lib64', '/usr/lib64', '/lib', '/usr/lib', '/usr/local/lib');
  return [...new Set(dirs)];
}

/** The full path of a shared library (e.g. 'libEGL.so.1') in the loader's search path, or null. */
export async function findSharedLibrary(file: string, env: Record<string, string | undefined>): Promise<string | null> {
  const fs = await nodeBuiltin<FsApi>('fs');
  for (const dir of await librarySearchPath(env)) {
    const path = `${dir}/${file}`;
    if (fs.existsSync(path)) return path;
  }
  return null;
}

/**
 * Vulkan driver manifests (ICD JSON files) the Vulkan loader would use: VK_DRIVER_FILES or
 * VK_ICD_FILENAMES when set, else the JSON files in the standard icd.d folders.
 */
export async function vulkanDriverManifests(env: Record<string, string | undefined>): Promise<string[]> {
  const fs = await nodeBuiltin<FsApi>('fs');
  const explicit = env['VK_DRIVER_FILES'] || env['VK_ICD_FILENAMES'];
  if (explicit) return explicit.split(':').filter((p) => p && fs.existsSync(p));
  const dataDirs = (env['XDG_DATA_DIRS'] || '/usr/local/share:/usr/share').split(':');
  const roots = ['/etc/vulkan/icd.d', ...dataDirs.map((d) => `${d}/vulkan/icd.d`)];
  const found: string[] = [];
  for (const root of [...new Set(roots)]) {
    try {
      for (const f of fs.readdirSync(root)) if (f.endsWith('.json')) found.push(`${root}/${f}`);
    } catch {
      // folder absent
    }
  }
  return found;
}

/** Which Vulkan pieces are installed: the loader library and at least one driver manifest. */
export interface VulkanProbe {
  /** Path of libvulkan.so.1, or null. */
  loader: string | null;
  /** Driver manifests (ICD JSON). */
  drivers: string[];
}

/** Looks for the Vulkan loader and drivers. */
export async function probeVulkan(env: Record<string, string | undefined>): Promise<VulkanProbe> {
  return { loader: await findSharedLibrary('libvulkan.so.1', env), drivers: await vulkanDriverManifests(env) };
}

/**
 * What the OpenGL path lacks, as Debian package hints: the EGL dispatch library, a Mesa EGL vendor and
 * Mesa's DRI drivers (llvmpipe lives in swrast_dri.so). Empty when everything was found.
 */
export async function missingOpenGlLibraries(env: Record<string, string | undefined>): Promise<string[]> {
  const missing: string[] = [];
  if (!(await findSharedLibrary('libEGL.so.1', env))) missing.push('libEGL.so.1 (Debian/Ubuntu package libegl1)');
  if (!(await findSharedLibrary('libEGL_mesa.so.0', env)) && !(await findSharedLibrary('libEGL_nvidia.so.0', env))) {
    missing.push('an EGL vendor library such as libEGL_mesa.so.0 (libegl-mesa0)');
  }
  if (!(await findSharedLibrary('dri/swrast_dri.so', env)) && !(await findSharedLibrary('libEGL_nvidia.so.0', env))) {
    missing.push("Mesa's DRI drivers, dri/swrast_dri.so (libgl1-mesa-dri)");
  }
  return missing;
}
