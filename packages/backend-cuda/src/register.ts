// Side effect of importing the package entry: register the 'cuda' and 'native' LoRA backends (lazily:
// nothing native loads until a backend's availability is asked).
import { registerNativeBackends } from './native-backends.js';

registerNativeBackends();
