"""s2net Keras layers and backend: shapes, constraints, regulariser, save/load, errors."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from spykeflow.backends.s2net import S2NetBackend
from spykeflow.layers.s2net import (
    ClipConstraint,
    S2NetConv1D,
    S2NetConv2D,
    S2NetDense,
    S2NetReadout,
)


def test_conv1d_currents_equal_causal_dilated_convolution(rng):
    layer = S2NetConv1D(2, (2, 3), dilation_rate=(2, 1), padding="valid", seed=0)
    x = rng.normal(size=(1, 5, 4, 1)).astype(np.float32)
    layer.build(x.shape)
    k = layer.kernel.numpy()
    cur = layer.currents(tf.constant(x)).numpy()
    assert cur.shape == (1, 5, 2, 2)
    # current at (t, l, c) = sum_{i, j} k[i, j, 0, c] x[t - (1 - i) * 2, l + j]
    for t in range(5):
        for l_ in range(2):
            for c in range(2):
                acc = 0.0
                for i in range(2):
                    tt = t - (1 - i) * 2
                    if tt < 0:
                        continue  # causal zero padding
                    for j in range(3):
                        acc += k[i, j, 0, c] * x[0, tt, l_ + j, 0]
                np.testing.assert_allclose(cur[0, t, l_, c], acc, rtol=1e-5, atol=1e-6)


def test_output_shapes_and_binary_spikes():
    x = tf.random.stateless_normal((2, 6, 10, 3), seed=(1, 2))
    s = S2NetConv1D(4, (4, 3), dilation_rate=(2, 3), padding="same", seed=1)(x)
    assert s.shape == (2, 6, 10, 4)
    assert set(np.unique(s.numpy())) <= {0.0, 1.0}
    assert S2NetConv2D(3, (2, 3, 3), padding="valid", seed=0)(tf.ones((1, 4, 6, 6, 2))).shape == (
        1, 4, 4, 4, 3)
    assert S2NetDense(5, recurrent=True, seed=0)(tf.ones((2, 3, 7))).shape == (2, 3, 5)


def test_readout_is_time_mean_of_dense(rng):
    x = rng.normal(size=(2, 4, 3, 2)).astype(np.float32)
    layer = S2NetReadout(5, seed=0)
    out = layer(x).numpy()
    flat = x.reshape(2, 4, 6)
    expected = np.mean(flat @ layer.kernel.numpy() + layer.bias.numpy(), axis=1)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)


def test_clamps_hold_after_optimizer_step():
    layer = S2NetDense(3, beta=0.95, threshold=0.01, seed=0)
    model = keras.Sequential([keras.Input((4, 2)), layer, S2NetReadout(2, seed=0)])
    opt = keras.optimizers.SGD(1.0)
    x = tf.ones((4, 4, 2))
    with tf.GradientTape() as tape:
        # descending this loss pushes beta far above 1 and the thresholds far below 0
        loss = tf.reduce_sum(model(x)) - 100.0 * layer.beta + 100.0 * tf.reduce_sum(layer.threshold)
    grads = tape.gradient(loss, model.trainable_variables)
    opt.apply(grads, model.trainable_variables)
    assert float(layer.beta) == 1.0
    np.testing.assert_array_equal(layer.threshold.numpy(), [0.0, 0.0, 0.0])
    # and the opposite direction clips beta at 0
    with tf.GradientTape() as tape:
        loss = 100.0 * layer.beta + 0.0 * tf.reduce_sum(model(x))
    opt.apply(tape.gradient(loss, model.trainable_variables), model.trainable_variables)
    assert float(layer.beta) == 0.0


def test_clip_constraint_validation_and_config():
    c = ClipConstraint(0.0, 1.0)
    np.testing.assert_allclose(c(tf.constant([-1.0, 0.5, 2.0])).numpy(), [0.0, 0.5, 1.0])
    assert ClipConstraint(**c.get_config()).max_value == 1.0
    with pytest.raises(ValueError, match="min_value <= max_value"):
        ClipConstraint(2.0, 1.0)


def test_regulariser_added_as_model_loss():
    x = tf.random.stateless_normal((2, 5, 8, 3), seed=(3, 4))
    layer = S2NetConv1D(4, (2, 3), spike_regularization=0.5, seed=0)
    inputs = keras.Input((5, 8, 3))
    model = keras.Model(inputs, S2NetReadout(2, seed=0)(layer(inputs)))
    model(x)
    spikes = layer(x)
    assert len(model.losses) == 1
    np.testing.assert_allclose(float(model.losses[0]), 0.5 * 0.5 * float(tf.reduce_mean(spikes)),
                               rtol=1e-6)


def test_save_load_round_trip(tmp_path):
    backend = S2NetBackend(filters=(3, 4), kernel_sizes=[(2, 3), (2, 3)],
                           dilations=[(1, 1), (2, 2)], recurrent=True, lateral=False)
    model = backend.build_model((6, 12, 2), 3, seed=0)
    x = np.random.default_rng(0).normal(size=(2, 6, 12, 2)).astype(np.float32)
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded(x).numpy(), model(x).numpy(), rtol=1e-6, atol=1e-6)
    conv = loaded.get_layer("s2net_conv2")
    assert conv.lateral is False and conv.recurrent is True
    assert conv.dilation_rate == (2, 2)
    assert conv.surrogate.get_config() == {"name": "sigmoid", "scale": 10.0}
    cfg = S2NetConv1D(2, 3, beta=0.3, surrogate="fast_sigmoid").get_config()
    again = S2NetConv1D.from_config(cfg)
    assert again.get_config() == cfg


def test_same_seed_same_model():
    b = S2NetBackend(filters=(2,), kernel_sizes=[(2, 3)], dilations=[(1, 1)])
    w1 = [v.numpy() for v in b.build_model((4, 6, 1), 2, seed=3).weights]
    w2 = [v.numpy() for v in b.build_model((4, 6, 1), 2, seed=3).weights]
    for a, c in zip(w1, w2):
        np.testing.assert_array_equal(a, c)


def test_backend_hooks_and_firing_rates():
    b = S2NetBackend(filters=(2,), kernel_sizes=[(1, 1)], dilations=[(1, 1)], gradient_clip=5.0)
    assert b.optimizer_kwargs() == {"clipvalue": 5.0}
    assert S2NetBackend(gradient_clip=None).optimizer_kwargs() == {}
    model = b.build_model((5, 3), 2, seed=0)  # (T, F) input gets a channel axis
    rates = b.firing_rates(model, np.zeros((3, 5, 3), np.float32), batch_size=2, dt=0.01)
    assert rates == {"s2net_conv1": 0.0}  # zero input never reaches a positive threshold
    from spykeflow import backends

    assert backends.get_class("s2net") is S2NetBackend


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        ({"beta": 1.5}, ValueError, "beta in"),
        ({"threshold": -1.0}, ValueError, "threshold >= 0"),
        ({"lateral": "yes"}, TypeError, "lateral"),
        ({"kernel_size": (0, 3)}, ValueError, "kernel_size"),
        ({"dilation_rate": (1, 1, 1)}, ValueError, "dilation_rate"),
        ({"padding": "causal"}, ValueError, "padding"),
        ({"surrogate": "nope"}, ValueError, "Unknown surrogate"),
        ({"spike_regularization": -0.1}, ValueError, "spike_regularization"),
    ],
)
def test_layer_argument_errors(kwargs, exc, match):
    args = {"filters": 2, "kernel_size": (2, 3), **kwargs}
    with pytest.raises(exc, match=match):
        S2NetConv1D(**args)


def test_bad_input_rank_errors():
    with pytest.raises(ValueError, match=r"rank 4 \(N, T, L, C\)"):
        S2NetConv1D(2, 3)(tf.ones((2, 3, 4)))
    with pytest.raises(ValueError, match="units"):
        S2NetDense(0)
    with pytest.raises(ValueError, match="sequences"):
        S2NetBackend().check_input(np.zeros((2, 3, 4, 5, 6)))
    with pytest.raises(ValueError, match="kernel_sizes"):
        S2NetBackend(filters=(2, 2), kernel_sizes=[(2, 3)])


def test_gradient_clip_bounds_every_weight_gradient():
    x = tf.random.stateless_normal((4, 6, 8, 2), seed=(5, 6))
    inputs = keras.Input((6, 8, 2))
    conv = S2NetConv1D(3, (2, 3), gradient_clip=5.0, seed=0, recurrent=True)
    head = S2NetReadout(2, gradient_clip=5.0, seed=0)
    model = keras.Model(inputs, head(conv(inputs)))
    free = keras.Model(inputs, S2NetReadout(2, seed=0)(S2NetConv1D(3, (2, 3), seed=0,
                                                                    recurrent=True)(inputs)))
    free.set_weights(model.get_weights())
    grads = {}
    for name, m in (("clipped", model), ("free", free)):
        with tf.GradientTape() as tape:
            loss = 1e4 * tf.reduce_sum(tf.square(m(x)))
        grads[name] = [g.numpy() for g in tape.gradient(loss, m.trainable_variables)]
    assert max(np.abs(g).max() for g in grads["free"]) > 5.0  # the clip has work to do
    for gc, gf in zip(grads["clipped"], grads["free"]):
        np.testing.assert_allclose(gc, np.clip(gf, -5.0, 5.0), rtol=1e-4, atol=1e-5)


def test_conv2d_gradients_eagerly_and_stateless_call_with_training():
    # the 3-D convolution's eager gradient (TensorFlow's Conv3D needs its data format given)
    layer = S2NetConv2D(2, (2, 3, 3), padding="same", threshold=0.1, seed=0)
    x = tf.random.stateless_normal((1, 3, 4, 4, 2), seed=(7, 8))
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(x) * tf.range(1.0, 3.0))
    grads = tape.gradient(loss, layer.trainable_variables)
    assert all(g is not None for g in grads)
    # the layers accept ``training`` (Layer.stateless_call passes it through)
    dense = S2NetDense(3, seed=0)
    dense.build((2, 4, 5))
    out, _ = dense.stateless_call(dense.trainable_variables, dense.non_trainable_variables,
                                  tf.ones((2, 4, 5)), training=True)
    assert out.shape == (2, 4, 3)
