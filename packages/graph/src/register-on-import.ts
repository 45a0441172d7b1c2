// Side effect of importing the package entry: register the GraphModel format and model kind with core.
import { registerGraph } from './register.js';

registerGraph();
