// Side effect of importing the package entry: register the Embedding and MergedDense layer kinds with core.
import { registerNlpLayerKinds } from './register.js';

registerNlpLayerKinds();
