"""QCFS Keras layer: validation, training of lambda, get_config and .keras save/load round trips."""

import keras
import numpy as np
import pytest

from spykeflow.layers.qcfs import QCFS


def _np(x):
    return keras.ops.convert_to_numpy(x)


@pytest.mark.parametrize("kw, exc, match", [
    ({"levels": 0}, ValueError, "levels"), ({"levels": 2.5}, TypeError, "levels"),
    ({"levels": True}, TypeError, "levels"), ({"shift": 1.5}, ValueError, "shift"),
    ({"threshold": 0.0}, ValueError, "threshold"),
    ({"train_threshold": "yes"}, TypeError, "train_threshold"),
])
def test_invalid_arguments(kw, exc, match):
    with pytest.raises(exc, match=match):
        QCFS(**kw)


@pytest.mark.skipif(keras.backend.backend() != "tensorflow",
                    reason="GradientTape; every backend: tests/backends/cases_qcfs.py")
def test_layer_forward_and_lambda_gradient():
    import tensorflow as tf

    layer = QCFS(levels=4, threshold=1.0)
    z = tf.constant([[-0.2, 0.3, 0.6, 2.0]])
    with tf.GradientTape() as tape:
        a = layer(z)
        loss = tf.reduce_sum(a)
    assert a.numpy().tolist() == [[0.0, 0.25, 0.5, 1.0]]
    (g,) = tape.gradient(loss, layer.trainable_weights)
    # (0.25 - 0.3) + (0.5 - 0.6) + 1 (clipped) + 0 (below the window)
    assert float(g) == pytest.approx(0.85, abs=1e-6)
    frozen = QCFS(levels=4, train_threshold=False)
    frozen.build((None, 4))
    assert frozen.trainable_weights == [] and len(frozen.weights) == 1


def test_get_config_round_trip():
    layer = QCFS(levels=16, shift=0.25, threshold=3.0, name="q")
    clone = QCFS.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    assert (clone.levels, clone.shift, clone.threshold_init) == (16, 0.25, 3.0)
    assert keras.saving.get_registered_name(QCFS) == "spykeflow>QCFS"


def test_save_load_round_trip(tmp_path):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), QCFS(levels=8, name="q"),
                              keras.layers.Dense(2)])
    model.get_layer("q").threshold.assign(1.7)
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)  # no custom_objects: the layer is registered
    assert float(_np(loaded.get_layer("q").threshold)) == pytest.approx(1.7)
    assert loaded.get_layer("q").get_config() == model.get_layer("q").get_config()
    x = np.random.default_rng(0).normal(size=(10, 4)).astype("float32")
    np.testing.assert_array_equal(_np(loaded(x)), _np(model(x)))


def test_lambda_learns_in_fit():
    # regression target outside the initial clip: the straight-through gradient raises lambda
    model = keras.Sequential([keras.Input((1,)), QCFS(levels=4, threshold=1.0, name="q")])
    model.compile(keras.optimizers.SGD(0.05), "mse")
    x = np.linspace(0, 3, 64, dtype="float32")[:, None]
    model.fit(x, x, epochs=5, verbose=0, batch_size=16)
    assert float(_np(model.get_layer("q").threshold)) > 1.5
