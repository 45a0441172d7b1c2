// Transposes of operands that come back (frozen weights), kept between BatchMatMul calls.
import * as tf from '@tensorflow/tfjs-core';
import type { Info, KernelScope } from './kernel-scope.js';
import { transpose } from './Transpose.js';

type DataId = object;

/** Per backend instance: source buffer → (source shape → its transpose, a backend-only buffer). */
const caches = new WeakMap<tf.KernelBackend, Map<DataId, Map<string, Info>>>();
/** The same maps, iterable: backends whose cache holds entries (dropped when it empties). */
const liveCaches = new Map<tf.KernelBackend, Map<DataId, Map<string, Info>>>();
/** Buffers seen transposed once: the second time, the transpose is kept. */
const seen = new WeakSet<DataId>();
let enabled = true;

/** Turns the transpose cache on or off (on by default); turning it off frees what it holds. */
export function setTransposeCacheEnabled(on: boolean): void {
  enabled = on;
  if (!on) clearTransposeCache();
}

/**
 * Frees every cached transpose now. Entries are otherwise freed at the next transposed BatchMatMul
 * after their source buffer is gone (disposed, or moved to another backend).
 */
export function clearTransposeCache(): void {
  for (const [backend, cache] of liveCaches) {
    // A backend that was removed (tf.removeBackend) freed its whole heap already.
    if (isLive(backend))
      for (const byShape of cache.values()) for (const t of byShape.values()) backend.disposeData(t.dataId);
    cache.clear();
  }
  liveCaches.clear();
}

function isLive(backend: tf.KernelBackend): boolean {
  return Object.values(tf.engine().registry).includes(backend);
}

/** What the cache holds now (all backends): entries and bytes of wasm heap outside tf.memory(). */
export function transposeCacheStats(): { entries: number; bytes: number } {
  let entries = 0;
  let bytes = 0;
  for (const [backend, cache] of liveCaches) {
    if (!isLive(backend)) {
      liveCaches.delete(backend);
      continue;
    }
    for (const byShape of cache.values()) {
      for (const t of byShape.values()) {
        entries++;
        bytes += 4 * t.shape.reduce((n, d) => n * d, 1);
      }
    }
  }
  return { entries, bytes };
}

/** Drops the entries whose source buffer no longer exists on this backend. */
function sweep(backend: tf.KernelBackend, cache: Map<DataId, Map<string, Info>>): void {
  for (const [src, byShape] of cache) {
    if (backend.refCount(src) > 0) continue;
    for (const t of byShape.values()) backend.disposeData(t.dataId);
    cache.delete(src);
  }
  if (cache.size === 0) liveCaches.delete(backend);
}

/** x [..., R, C] → [..., C, R] as a new backend buffer (the Transpose kernel of this package). */
function transposeLast2Buffer(backend: tf.KernelBackend, x: Info): Info {
  const r = x.shape.length;
  const perm = [...x.shape.slice(0, -2).map((_, i) => i), r - 1, r - 2];
  return transpose({ inputs: { x }, attrs: { perm }, backend });
}

/**
 * The transpose of x's last two axes for a BatchMatMul operand. The first time a buffer is transposed,
 * the result is an intermediate of the scope (freed with it); when the same buffer (same data id and
 * shape: buffers in tfjs never change, a variable update gives the variable a new buffer) is
 * transposed again, its transpose is kept and reused until the buffer is gone. In a training step
 * that is Wᵀ of every frozen weight (dx = dy·Wᵀ); activations and trainable weights are new buffers
 * every step and are never kept. The returned tensor must not be freed by the caller.
 */
export function cachedTransposeLast2(s: KernelScope, x: Info): Info {
  const backend = s.backend;
  let cache = caches.get(backend);
  if (cache) sweep(backend, cache);
  if (!enabled) return s.adopt(transposeLast2Buffer(backend, x));
  const key = x.shape.join(',');
  const hit = cache?.get(x.dataId)?.get(key);
  if (hit) return hit;
  if (!seen.has(x.dataId)) {
    seen.add(x.dataId);
    return s.adopt(transposeLast2Buffer(backend, x));
  }
  const t = transposeLast2Buffer(backend, x);
  // Never keep a view of x (it would hold a reference to x's buffer, which the sweep reads to know
  // when x is gone); the Transpose kernel copies, but stay safe if that changes.
  if (t.dataId === x.dataId) return s.adopt(t);
  if (!cache) caches.set(backend, (cache = new Map()));
  liveCaches.set(backend, cache);
  let byShape = cache.get(x.dataId);
  if (!byShape) cache.set(x.dataId, (byShape = new Map()));
  byShape.set(key, t);
  return t;
}
