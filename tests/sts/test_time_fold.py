"""TimeFolded: same outputs and gradients as keras.layers.TimeDistributed for per-frame layers,
one op on N*T frames, complexity counting, save/load and the mask error."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from spykeflow import complexity
from spykeflow.layers.time_fold import TimeFolded

LAYERS = {
    "conv": lambda: keras.layers.Conv2D(3, 3, padding="same", kernel_initializer="glorot_uniform"),
    "strided_conv": lambda: keras.layers.Conv2D(3, 3, strides=2, padding="same"),
    "avg_pool": lambda: keras.layers.AveragePooling2D(2),
    "max_pool": lambda: keras.layers.MaxPooling2D(2),
    "flatten": lambda: keras.layers.Flatten(),
    "gap": lambda: keras.layers.GlobalAveragePooling2D(),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_matches_time_distributed_values_and_gradients(name):
    x = tf.constant(np.random.default_rng(1).random((3, 4, 8, 8, 2)).astype("float32"))
    ref, fold = keras.layers.TimeDistributed(LAYERS[name]()), TimeFolded(LAYERS[name]())
    ref(x), fold(x)
    if ref.layer.weights:
        fold.layer.set_weights(ref.layer.get_weights())
    grads = []
    for layer in (ref, fold):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x)
            loss = tf.reduce_sum(y ** 2)
        grads.append([g.numpy() for g in tape.gradient(loss, [x] + layer.trainable_weights)])
        grads[-1].insert(0, y.numpy())
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert grads[0][0].shape[:2] == (3, 4)


def test_one_op_on_all_frames_not_a_loop_over_time():
    layer = TimeFolded(keras.layers.Conv2D(2, 3, padding="same"))
    fn = tf.function(layer).get_concrete_function(tf.TensorSpec((None, 7, 6, 6, 1)))
    convs = [op for op in fn.graph.get_operations() if op.type == "Conv2D"]
    assert len(convs) == 1                       # TimeDistributed builds one conv per time step
    ref = keras.layers.TimeDistributed(keras.layers.Conv2D(2, 3, padding="same"))
    fn = tf.function(ref).get_concrete_function(tf.TensorSpec((None, 7, 6, 6, 1)))
    assert len([op for op in fn.graph.get_operations() if op.type == "Conv2D"]) == 7


def test_symbolic_shapes_complexity_and_save_load(tmp_path):
    inp = keras.Input((5, 8, 8, 1))
    h = TimeFolded(keras.layers.Conv2D(4, 3, padding="same"), name="conv")(inp)
    h = TimeFolded(keras.layers.MaxPooling2D(2), name="pool")(h)
    out = TimeFolded(keras.layers.Flatten(), name="flat")(h)
    model = keras.Model(inp, out)
    assert tuple(out.shape) == (None, 5, 64)
    # counted like TimeDistributed: T x the inner conv's MACs (8*8*4 outputs x 9 taps x 1 channel)
    assert complexity.complexity(model)["macs"] == 5 * 8 * 8 * 4 * 9
    x = np.random.default_rng(0).random((2, 5, 8, 8, 1)).astype("float32")
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded.get_layer("conv"), TimeFolded)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)


def test_mask_is_rejected_with_a_clear_error():
    layer = TimeFolded(keras.layers.Dense(2))
    with pytest.raises(ValueError, match="does not support masks"):
        layer(np.zeros((1, 3, 4), "float32"), mask=np.ones((1, 3), bool))
