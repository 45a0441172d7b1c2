// tfjs-layers 4.22 saves a Dense layer's 'gelu_new' activation as "gelu_new", but loading converts the
// snake_case name to "geluNew", which no class is registered under, so tf.loadLayersModel fails
// ("Unknown activation: geluNew"). This registers the same function under that name.
import * as tf from '@tensorflow/tfjs-core';

/** GPT-2's `gelu_new` (tanh approximation), registered under the name tfjs-layers looks up on load. */
export class GeluNewAlias extends tf.serialization.Serializable {
  /** @nocollapse */
  static className = 'geluNew';

  /** 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), as tfjs-layers' GeluNew. */
  apply(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() =>
      tf.mul(
        0.5,
        tf.mul(x, tf.add(1, tf.tanh(tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3))))))),
      ),
    );
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {};
  }
}

tf.serialization.registerClass(GeluNewAlias);
