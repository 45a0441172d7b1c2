// @tfjs-lora/core/safetensors: reading and writing the safetensors format, and half-float conversion.
export {
  parseSafetensors,
  readSafetensors,
  readSafetensorsMetadata,
  safetensorsTensors,
  decodeSafetensorsEntry,
  SAFETENSORS_DTYPES,
  MAX_HEADER_BYTES,
  type SafetensorsDtype,
  type SafetensorsEntry,
  type ParsedSafetensors,
  type DecodedTensorData,
} from '../safetensors.js';
export {
  writeSafetensors,
  writeSafetensorsAsync,
  encodeSafetensors,
  rawSafetensorsInputs,
  type SafetensorsData,
  type SafetensorsTensorInput,
  type WriteSafetensorsOptions,
} from '../safetensors-write.js';
export { f16ToF32, bf16ToF32, f32ToF16, f32ToBf16 } from '../half.js';
