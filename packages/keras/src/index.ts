// @tfjs-lora/keras: Keras 3 `.keras` files as tfjs LayersModels, and the 'keras' format of loadPretrained.
import './register-on-import.js';

export { kerasFormat, registerKerasFormat } from './format.js';
export { loadKerasModel, kerasArchiveToModel, type LoadKerasOptions } from './load-keras.js';
export { readKerasArchive, type KerasArchive, type H5Group, type H5Array } from './archive.js';
export { convertKerasConfig } from './convert-config.js';
export { UnsupportedKerasModelError, type KerasIncompatibility } from './errors.js';
