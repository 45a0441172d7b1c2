// Side effect of importing the package entry: register the convolution layer kinds with core.
import { registerVisionLayerKinds } from './register.js';

registerVisionLayerKinds();
