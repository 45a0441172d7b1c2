// Side effect of importing the package entry: register the Embedding and MergedDense adapters with core.
import { registerNlpAdapters } from './register.js';

registerNlpAdapters();
