// Side effect of importing the package entry: register the convolution layer kinds and the 'hf-vision'
// model format with core.
import { registerHfVisionFormat } from './hf/format.js';
import { registerVisionLayerKinds } from './register.js';

registerVisionLayerKinds();
registerHfVisionFormat();
