// @tfjs-lora/core/node: Node-only file I/O shared by the packages: the file system shim (loaded lazily, so
// importing this entry in a browser bundle is harmless until a function is called) and a model folder
// (model.json + weights.bin) saved and loaded without tfjs-node.
export {
  nodeFs,
  nodePath,
  nodeFileURLToPath,
  isNode,
  requireNode,
  pathKind,
  writeFilesAtomic,
  type NodeFs,
  type NodePath,
} from '../node/fs.js';
export {
  modelFiles,
  modelFromFiles,
  saveModelFiles,
  loadModelFiles,
  type ModelFilesOptions,
  type LoadedModelFiles,
} from '../node/model-files.js';
