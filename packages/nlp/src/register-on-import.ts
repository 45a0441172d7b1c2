// Side effect of importing the package entry: register the Embedding and MergedDense layer kinds and the
// 'hf-text' model format with core.
import { registerHfTextFormat } from './hf/format.js';
import { registerNlpLayerKinds } from './register.js';

registerNlpLayerKinds();
registerHfTextFormat();
