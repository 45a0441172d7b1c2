// Depthwise convolution geometries shared by the two depthwise backprop kernel tests: odd shapes,
// strides, dilations, same/valid/explicit/numeric padding, channel multipliers 1-3.
import type * as tf from '@tensorflow/tfjs-core';

type Pad = tf.DepthwiseConv2dNativeBackpropInputAttrs['pad'];
/** One depthwise convolution geometry. */
export interface DepthwiseCase {
  x: [number, number, number, number];
  filter: [number, number, number, number];
  strides: number | [number, number];
  dilations: number | [number, number];
  pad: Pad;
}

/** The geometries. */
export const DEPTHWISE_CASES: DepthwiseCase[] = [
  { x: [2, 7, 9, 3], filter: [3, 3, 3, 1], strides: 1, dilations: 1, pad: 'same' },
  { x: [2, 7, 9, 3], filter: [3, 2, 3, 2], strides: 1, dilations: 1, pad: 'valid' },
  { x: [1, 9, 8, 4], filter: [3, 3, 4, 1], strides: 2, dilations: 1, pad: 'same' },
  { x: [3, 10, 7, 2], filter: [2, 3, 2, 3], strides: [2, 3], dilations: 1, pad: 'valid' },
  { x: [1, 11, 6, 3], filter: [4, 3, 3, 2], strides: [3, 1], dilations: 1, pad: 'same' },
  { x: [2, 9, 10, 3], filter: [3, 3, 3, 2], strides: 1, dilations: 2, pad: 'same' },
  { x: [1, 11, 9, 2], filter: [3, 2, 2, 1], strides: 1, dilations: [3, 2], pad: 'valid' },
  {
    x: [2, 6, 7, 5],
    filter: [3, 3, 5, 1],
    strides: 1,
    dilations: 1,
    pad: [
      [0, 0],
      [1, 2],
      [0, 1],
      [0, 0],
    ],
  },
  {
    x: [1, 8, 9, 2],
    filter: [3, 3, 2, 2],
    strides: 2,
    dilations: 1,
    pad: [
      [0, 0],
      [2, 0],
      [1, 1],
      [0, 0],
    ],
  },
  {
    x: [1, 8, 9, 3],
    filter: [3, 3, 3, 1],
    strides: 1,
    dilations: 2,
    pad: [
      [0, 0],
      [3, 1],
      [0, 2],
      [0, 0],
    ],
  },
  { x: [2, 7, 9, 3], filter: [5, 5, 3, 1], strides: 2, dilations: 1, pad: 1 },
  { x: [2, 5, 5, 6], filter: [1, 1, 6, 2], strides: 1, dilations: 1, pad: 'valid' },
];

/** A readable name for a case. */
export function caseLabel(c: DepthwiseCase): string {
  return `x ${c.x} filter ${c.filter} strides ${c.strides} dilations ${c.dilations} pad ${JSON.stringify(c.pad)}`;
}
