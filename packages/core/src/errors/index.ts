export { LoraError, type LoraErrorOptions } from './lora-error.js';
export { LoraConfigError } from './lora-config-error.js';
export { AdapterFormatError } from './adapter-format-error.js';
export { ShapeMismatchError } from './shape-mismatch-error.js';
export { BackendUnavailableError, type BackendAttempt } from './backend-unavailable-error.js';
export { AdapterStateError } from './adapter-state-error.js';
export { ModelFormatError, type FormatAttempt } from './model-format-error.js';
