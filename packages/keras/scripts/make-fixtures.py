"""Small random-weight Keras 3 models, their inputs and Keras's outputs, for @tfjs-lora/keras's tests.

Run from the repository root (needs keras 3 and torch; the tests do not):

    KERAS_BACKEND=torch /tmp/peftenv/bin/python packages/keras/scripts/make-fixtures.py

(`... make-fixtures.py legacy` writes only the legacy .h5 files from the existing .keras files.)

Writes packages/keras/fixtures/<name>.keras (the file as Keras saves it, re-zipped with deflate so the
fixtures stay small; Keras reads it back) and <name>.io.safetensors (input_0.., output_0..: the inputs and
what Keras's own predict gives). Weights are random multiples of 2^-k (a few distinct values: exact in
float32 and compressible); batch-norm variances and scales are positive. Also writes error cases:
models with layers or options tfjs-layers lacks.
"""

import json
import os
import zipfile

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "torch")
import keras  # noqa: E402
from safetensors.numpy import save_file  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures")
rng = np.random.default_rng(1234)


def quantised(shape, scale):
    """Random values in {-1, 0, 1}·2^-k (about 1.6 bits each once zipped), with 2^-k close to scale."""
    k = max(0, int(round(-np.log2(max(scale, 1e-6)))))
    return rng.integers(-1, 2, size=shape).astype(np.float32) / (2.0**k)


def randomise(model):
    for w in model.weights:
        shape = tuple(w.shape)
        name = w.path.split("/")[-1]
        if name in ("moving_variance", "gamma"):
            value = rng.integers(2, 7, size=shape).astype(np.float32) / 4
        elif name in ("moving_mean", "beta", "bias"):
            value = rng.integers(-2, 3, size=shape).astype(np.float32) / 8
        elif len(shape) == 0:
            value = np.float32(0.5)
        else:
            fan_in = int(np.prod(shape[:-1])) if len(shape) > 1 else shape[0]
            if "depthwise" in w.path and len(shape) == 4:
                fan_in = shape[0] * shape[1]
            if name == "embeddings":
                fan_in = 1
            value = quantised(shape, 1.5 / np.sqrt(fan_in))
        w.assign(value)


def save_deflated(model, path):
    """model.save, then the same zip entries re-written with deflate (Keras stores them uncompressed)."""
    os.makedirs(OUT, exist_ok=True)
    tmp = path + ".tmp.keras"
    model.save(tmp)
    with zipfile.ZipFile(tmp) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as dst:
        for item in src.namelist():
            dst.writestr(item, src.read(item))
    os.remove(tmp)


def save(name, model, inputs):
    path = os.path.join(OUT, f"{name}.keras")
    save_deflated(model, path)
    # Keras's outputs from the file it reads back (the reference the tests compare with).
    loaded = keras.saving.load_model(path)
    outputs = loaded.predict(inputs if len(inputs) > 1 else inputs[0], verbose=0)
    if not isinstance(outputs, (list, tuple)):
        outputs = [outputs]
    tensors = {f"input_{i}": np.ascontiguousarray(x) for i, x in enumerate(inputs)}
    tensors.update({f"output_{i}": np.ascontiguousarray(np.asarray(y, dtype=np.float32)) for i, y in enumerate(outputs)})
    save_file(tensors, os.path.join(OUT, f"{name}.io.safetensors"))
    summary = ", ".join(f"{tuple(y.shape)} std {np.std(y):.3g}" for y in outputs)
    print(f"{name}: {model.count_params()} params, {os.path.getsize(path)} bytes; outputs {summary}")


def images(n, h, w, c):
    return rng.uniform(-1, 1, size=(n, h, w, c)).astype(np.float32)


def mobilenet_v2():
    m = keras.applications.MobileNetV2(input_shape=(32, 32, 3), alpha=0.35, weights=None, classes=10)
    randomise(m)
    save("mobilenet_v2", m, [images(2, 32, 32, 3)])


def residual():
    """Functional: two inputs, residual Add, Concatenate, a nested Sequential and a nested Functional."""
    a = keras.Input((8, 8, 3), name="image")
    b = keras.Input((5,), name="extra")
    x = keras.layers.Conv2D(6, 3, padding="same", activation="relu", name="stem")(a)
    y = keras.layers.Conv2D(6, 3, padding="same", name="branch")(x)
    x = keras.layers.Add(name="residual")([x, y])
    x = keras.layers.Activation("relu")(x)
    x = keras.layers.MaxPooling2D(2)(x)
    x = keras.layers.Flatten()(x)
    inner_in = keras.Input((5,))
    inner = keras.Model(inner_in, keras.layers.Dense(4, activation="tanh", name="inner_dense")(inner_in), name="inner")
    seq = keras.Sequential([keras.layers.Dense(7, activation="sigmoid"), keras.layers.Dense(3)], name="tower")
    z = keras.layers.Concatenate(name="concat")([keras.layers.Dense(6, name="proj")(x), inner(b), seq(b)])
    out = keras.layers.Dense(4, activation="softmax", name="head")(z)
    side = keras.layers.Dense(2, name="side")(z)
    m = keras.Model([a, b], [out, side], name="residual")
    randomise(m)
    save("residual", m, [images(3, 8, 8, 3), rng.uniform(-1, 1, size=(3, 5)).astype(np.float32)])


def separable():
    m = keras.Sequential(
        [
            keras.Input((12, 12, 4)),
            keras.layers.SeparableConv2D(8, 3, padding="same", depth_multiplier=2, name="sep"),
            keras.layers.BatchNormalization(name="bn1"),
            keras.layers.ReLU(max_value=6.0),
            keras.layers.DepthwiseConv2D(3, strides=2, padding="valid", depth_multiplier=1, name="dw"),
            keras.layers.BatchNormalization(name="bn2"),
            keras.layers.Activation("relu6"),
            keras.layers.Conv2D(6, 1, use_bias=False, name="pw"),
            keras.layers.BatchNormalization(name="bn3", epsilon=1e-3),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(3, name="head"),
        ],
        name="separable",
    )
    randomise(m)
    save("separable", m, [images(2, 12, 12, 4)])


def recurrent():
    tokens = keras.Input((7,), dtype="int32", name="tokens")
    x = keras.layers.Embedding(20, 6, name="embed")(tokens)
    x = keras.layers.LSTM(5, return_sequences=True, name="lstm")(x)
    x = keras.layers.Bidirectional(keras.layers.GRU(4, reset_after=False, return_sequences=True), name="bigru")(x)
    x = keras.layers.TimeDistributed(keras.layers.Dense(3), name="per_step")(x)
    x = keras.layers.GRU(4, reset_after=False, name="gru")(x)
    out = keras.layers.Dense(2, name="head")(x)
    m = keras.Model(tokens, out, name="recurrent")
    randomise(m)
    save("recurrent", m, [rng.integers(0, 20, size=(3, 7)).astype(np.int32)])


def layer_norm():
    m = keras.Sequential(
        [
            keras.Input((6, 10)),
            keras.layers.Dense(16, activation="gelu", name="up"),
            keras.layers.LayerNormalization(epsilon=1e-5, name="ln"),
            keras.layers.Dense(10, name="down"),
            keras.layers.LayerNormalization(name="ln2"),
            keras.layers.GlobalAveragePooling1D(),
            keras.layers.Dense(3, activation="softmax", name="head"),
        ],
        name="layer_norm",
    )
    randomise(m)
    save("layer_norm", m, [rng.uniform(-1, 1, size=(2, 6, 10)).astype(np.float32)])


def error_cases():
    """Models tfjs-layers cannot compute: each .keras alone (no outputs)."""
    q = keras.Input((4, 8))
    mha = keras.layers.MultiHeadAttention(num_heads=2, key_dim=4, name="attention")(q, q)
    cases = {
        "unsupported_mha": keras.Model(q, keras.layers.Dense(2)(mha)),
        "unsupported_gru_reset_after": keras.Sequential([keras.Input((3, 2)), keras.layers.GRU(2)]),
        "unsupported_conv_groups": keras.Sequential([keras.Input((5, 5, 4)), keras.layers.Conv2D(4, 3, groups=2)]),
        "unsupported_relu_slope": keras.Sequential([keras.Input((3,)), keras.layers.ReLU(negative_slope=0.1)]),
    }
    for name, model in cases.items():
        path = os.path.join(OUT, f"{name}.keras")
        save_deflated(model, path)
        print(f"{name}: {os.path.getsize(path)} bytes")


def legacy_h5():
    """The legacy HDF5 format (model.save("m.h5")) of two fixtures, from their .keras files: same weights,
    so their .io.safetensors are the reference."""
    for name in ("separable", "residual"):
        model = keras.saving.load_model(os.path.join(OUT, f"{name}.keras"))
        path = os.path.join(OUT, f"{name}_legacy.h5")
        model.save(path)
        print(f"{name}_legacy.h5: {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["legacy"]:
        legacy_h5()
        sys.exit(0)
    mobilenet_v2()
    residual()
    separable()
    recurrent()
    layer_norm()
    error_cases()
    legacy_h5()
    with open(os.path.join(OUT, "README.md"), "w") as f:
        f.write(
            "Generated by `KERAS_BACKEND=torch python packages/keras/scripts/make-fixtures.py` "
            f"(keras {keras.__version__}); do not edit by hand.\n"
        )
