// @tfjs-lora/core/random: the seeded random numbers tests, examples and initialisation use.
export { seededRandom, seededValues } from '../random.js';
