// Importing @tfjs-lora/keras registers its model format with core's loadPretrained.
import { registerKerasFormat } from './format.js';

registerKerasFormat();
