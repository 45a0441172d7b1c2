// mergeAndUnload's encoder: the model's artifacts with some weights replaced by float32 tensors. Other
// weights keep their bytes (quantised ones stay quantised).
import * as tf from '@tensorflow/tfjs-core';
import { ModelFormatError } from '@tfjs-lora/core';

const BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2, complex64: 8 };

/** Stored byte size of one weight (its quantised dtype when quantised). */
function byteSize(spec: tf.io.WeightsManifestEntry, data: Uint8Array, offset: number): number {
  const n = spec.shape.reduce((a, b) => a * b, 1);
  if (spec.dtype === 'string') {
    let size = 0;
    const view = new DataView(data.buffer, data.byteOffset);
    for (let i = 0; i < n; i++) size += 4 + view.getUint32(offset + size, true);
    return size;
  }
  const dtype = spec.quantization?.dtype ?? spec.dtype;
  const b = BYTES[dtype];
  if (b === undefined)
    throw new ModelFormatError(`Weight '${spec.name}' has dtype '${dtype}', which cannot be re-encoded.`);
  return n * b;
}

/**
 * New artifacts: `artifacts` with each weight in `replaced` (by weight name) stored as float32 from the
 * tensor's values. Reads the tensors asynchronously; the caller keeps ownership of them.
 */
export async function mergedArtifacts(
  artifacts: tf.io.ModelArtifacts,
  replaced: ReadonlyMap<string, tf.Tensor>,
): Promise<tf.io.ModelArtifacts> {
  if (!artifacts.weightSpecs || artifacts.weightData === undefined)
    throw new ModelFormatError(
      'Expected the GraphModel to keep its weight bytes (artifacts.weightData); found none (was it loaded with streamWeights?). Load it without streaming to merge and unload.',
    );
  const data = new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData));
  const specs: tf.io.WeightsManifestEntry[] = [];
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const spec of artifacts.weightSpecs) {
    const size = byteSize(spec, data, offset);
    const t = replaced.get(spec.name);
    if (t) {
      const values = (await t.data()) as Float32Array;
      parts.push(new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength)));
      specs.push({ name: spec.name, shape: [...spec.shape], dtype: 'float32' });
    } else {
      parts.push(data.subarray(offset, offset + size));
      specs.push(spec);
    }
    offset += size;
  }
  const total = parts.reduce((s, p) => s + p.byteLength, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return { ...artifacts, weightSpecs: specs, weightData: out.buffer };
}
