"""STS layers: hand-computed membrane traces before and after the switch, and the switch API."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from spykeflow.layers.sts import (
    STSConv2D,
    STSDense,
    STSSynapse,
    get_mode,
    set_mode,
    shifted_leaky_relu,
    sts_layers,
)

X = np.array([[[0.2], [0.6], [0.1], [0.9], [0.0]]], "float32")  # (N=1, T=5, F=1)


def _ann_trace(x, theta=0.5, decay=0.5, slope=0.01):
    u, out = 0.0, []
    for xt in x:
        u = decay * u + xt                      # Eq. 6: no rest
        out.append(u if u >= theta else -slope * u)   # Eq. 7
    return out


def _snn_trace(x, rest, theta=0.5, decay=0.5):
    u, o, out = 0.0, 0.0, []
    for xt in x:
        u = decay * ((1.0 - o) if rest else 1.0) * u + xt   # Eq. 1
        o = 1.0 if u >= theta else 0.0                       # Eq. 4
        out.append(o)
    return out


def _dense(rest=False, mode="snn", **kw):
    layer = STSDense(1, kernel_initializer="ones", use_bias=False, rest=rest, mode=mode, **kw)
    layer(X)
    return layer


def test_hand_traces_ann_then_snn_without_rest():
    layer = _dense(rest=False, mode="ann")
    xs = X[0, :, 0].tolist()
    np.testing.assert_allclose(layer(X)[0, :, 0], _ann_trace(xs), rtol=1e-6, atol=1e-7)
    # U = 0.2, 0.7, 0.45, 1.125, 0.5625: ann values -0.002, 0.7, -0.0045, 1.125, 0.5625
    np.testing.assert_allclose(layer(X)[0, :, 0], [-0.002, 0.7, -0.0045, 1.125, 0.5625], atol=1e-6)
    set_mode(layer, "snn")
    assert layer(X)[0, :, 0].numpy().tolist() == _snn_trace(xs, rest=False) == [0, 1, 0, 1, 1]


def test_hand_traces_with_rest_only_after_switch():
    layer = _dense(rest=True, mode="ann")
    xs = X[0, :, 0].tolist()
    # ANN phase: no rest even though the layer has rest=True.
    np.testing.assert_allclose(layer(X)[0, :, 0], _ann_trace(xs), atol=1e-7)
    assert not layer.rest_active()
    set_mode(layer, "snn")
    assert layer.rest_active()
    # U = 0.2, 0.7 (spike -> rest), 0.1, 0.95 (spike), 0.0
    assert layer(X)[0, :, 0].numpy().tolist() == _snn_trace(xs, rest=True) == [0, 1, 0, 1, 0]
    set_mode(layer, "snn", rest=False)     # rest can be overridden at switch time
    assert layer(X)[0, :, 0].numpy().tolist() == [0, 1, 0, 1, 1]


def test_switch_without_retracing_compiled_model():
    inp = keras.Input((5, 1))
    layer = STSDense(1, kernel_initializer="ones", use_bias=False, rest=True, mode="ann")
    model = keras.Model(inp, layer(inp))
    fn = tf.function(lambda x: model(x))
    before = fn(X).numpy()[0, :, 0]
    set_mode(model, "snn")
    after = fn(X).numpy()[0, :, 0]
    assert fn.experimental_get_tracing_count() == 1      # same graph, mode read from variables
    np.testing.assert_allclose(before, _ann_trace(X[0, :, 0].tolist()), atol=1e-7)
    assert after.tolist() == [0, 1, 0, 1, 0]
    assert get_mode(model) == "snn" and len(sts_layers(model)) == 1


def test_gradients_per_mode():
    syn = STSSynapse(mode="ann", slope=0.1)
    x = tf.constant([[[0.3]], [[0.8]]])                  # two samples, one step
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = syn(x)
    g = tape.gradient(y, x).numpy().ravel()
    np.testing.assert_allclose(g, [-0.1, 1.0], rtol=1e-6)   # leaky-ReLU slopes below/above T
    set_mode(syn, "snn")
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = syn(x)
    g = tape.gradient(y, x).numpy().ravel()
    sigma = 1.0 / 6.0                                     # Gaussian N(threshold, 1/6)
    gauss = [math.exp(-(u - 0.5) ** 2 / (2 * sigma**2)) / (sigma * math.sqrt(2 * math.pi))
             for u in (0.3, 0.8)]
    np.testing.assert_allclose(g, gauss, rtol=1e-5)
    assert y.numpy().ravel().tolist() == [0.0, 1.0]


def test_output_layer_keeps_spikes_in_ann_mode():
    layer = _dense(mode="ann", ann_activation="spike")
    assert layer(X)[0, :, 0].numpy().tolist() == [0, 1, 0, 1, 1]


def test_shifted_leaky_relu_follows_eq7():
    u = tf.constant([-2.0, 0.0, 0.49, 0.5, 3.0])
    np.testing.assert_allclose(shifted_leaky_relu(u, 0.5, 0.01), [0.02, 0.0, -0.0049, 0.5, 3.0],
                               atol=1e-7)


def test_conv_layer_switches_and_keeps_shape():
    layer = STSConv2D(2, 3, padding="same", mode="ann", kernel_initializer="ones")
    x = np.full((1, 3, 4, 4, 1), 0.1, "float32")
    ann = layer(x).numpy()
    assert ann.shape == (1, 3, 4, 4, 2) and not set(np.unique(ann)) <= {0.0, 1.0}
    set_mode(layer, "snn")
    assert set(np.unique(layer(x).numpy())) <= {0.0, 1.0}


def test_bad_arguments():
    with pytest.raises(ValueError, match="mode"):
        STSSynapse(mode="spiking")
    with pytest.raises(ValueError, match="threshold"):
        STSSynapse(threshold=0.0)
    with pytest.raises(ValueError, match="ann_activation"):
        STSDense(2, ann_activation="relu")
    with pytest.raises(TypeError, match="reset"):
        STSDense(2, reset="zero")
    with pytest.raises(TypeError, match="rest"):
        STSSynapse(rest="yes")
    layer = _dense()
    with pytest.raises(ValueError, match="rest"):
        set_mode(layer, "ann", rest=True)
    with pytest.raises(ValueError, match="mode"):
        set_mode(layer, "bptt")
    plain = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="STS layers"):
        set_mode(plain, "snn")
    with pytest.raises(ValueError, match="axis 1"):
        STSSynapse()(np.zeros((2, 3), "float32"))


def test_serialisation_keeps_mode(tmp_path):
    inp = keras.Input((5, 1))
    h = STSSynapse(name="syn")(inp)
    out = STSDense(2, rest=True, return_sequences=False, name="out")(h)
    model = keras.Model(inp, out)
    set_mode(model, "ann")
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert get_mode(loaded) == "ann"
    np.testing.assert_allclose(loaded.predict(X, verbose=0), model.predict(X, verbose=0))
    set_mode(loaded, "snn")
    assert loaded.get_layer("out").rest_active()
    assert loaded.get_layer("out").get_config()["rest"] is True


def test_remat_keeps_values_gradients_and_config():
    x = tf.constant(np.random.default_rng(0).uniform(0, 1, (2, 5, 3)).astype("float32"))
    results = []
    for remat in (False, True):
        syn = STSSynapse(rest=True, remat=remat)
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = syn(x)
        results.append((y.numpy(), tape.gradient(y, x).numpy()))
        assert syn.get_config()["remat"] is remat
        assert STSSynapse.from_config(syn.get_config()).remat is remat
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-6)
    assert STSDense(2, remat=True).get_config()["remat"] is True
