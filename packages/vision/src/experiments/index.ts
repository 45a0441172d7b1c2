/// <reference types="node" />
// @tfjs-lora/vision/experiments: the domain-adaptation experiment and its datasets (Node only: reads the
// datasets and the committed model from disk). Importing it registers the convolution layer kinds.
export {
  runDomainAdaptation,
  formatAdaptationTable,
  type DomainAdaptationOptions,
  type AdaptationRow,
  type AdaptationResult,
  type AdaptationProgress,
  type Domain,
  type Method,
} from './domain-adaptation.js';
export {
  loadMnist,
  loadFashionMnist,
  fashionMnistFolder,
  invertAndRotate,
  type ImageSet,
  type Split,
} from './datasets.js';
export { buildMnistCnn, loadMnistCnn, MNIST_CNN_FOLDER, loadModelFiles, saveModelFiles } from './mnist-cnn.js';
export { train, accuracy, type TrainOptions, type TrainResult, type StepInfo } from './training.js';
