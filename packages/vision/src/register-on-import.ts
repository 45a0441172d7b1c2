// Side effect of importing the package entry: register the convolution adapters with core.
import { registerVisionAdapters } from './register.js';

registerVisionAdapters();
