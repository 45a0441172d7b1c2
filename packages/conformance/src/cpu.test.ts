// The conformance suite on tfjs's cpu backend (the reference every other backend is compared with).
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-layers';
import { describeBackendConformance } from './describe-conformance.js';

await describeBackendConformance('cpu', { require: true });
