// @tfjs-lora/core/node: Node-only file access (loaded lazily, so browser bundles never load node:fs).
export { isNode, nodeFs, nodePath, pathKind, writeFilesAtomic, type NodeFs } from '../peft/node-fs.js';
