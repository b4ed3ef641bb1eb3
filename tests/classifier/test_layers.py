"""Binary readout layers: exact binary forward, surrogate gradients through the layer, floor
with straight-through gradient, force-off vs inverted dropout, event == dense matmul."""

import numpy as np
import pytest
import tensorflow as tf

from spykeflow.functional import surrogate
from spykeflow.layers.binary import (
    BinaryDense,
    FloorLogits,
    StraightThroughReLU,
    event_matmul,
    floor_ste,
    force_off_dropout,
    inverted_dropout,
)

# z values around the firing threshold and the sg1 window edges [0, 0.125]
Z = np.array([-1.0, -0.3, -1e-6, 0.0, 0.05, 0.125, 0.1251, 0.6, 3.0], np.float32)


def _layer_with_preactivation(z, **kwargs):
    """A 1-input BinaryDense whose pre-activation for input 1.0 is exactly z (kernel = z)."""
    layer = BinaryDense(len(z), dropout=0.0, **kwargs)
    layer.build((None, 1))
    layer.kernel.assign(z[None, :])
    layer.bias.assign(np.zeros(len(z), np.float32))
    return layer


def _grad_wrt_z(layer, z):
    x = tf.ones((1, 1))
    with tf.GradientTape() as tape:
        a = layer(x, training=True)
        loss = tf.reduce_sum(a * tf.constant(np.arange(1, len(z) + 1, dtype=np.float32)))
    # dL/dkernel[0, j] = x * dL/dz_j = dL/dz_j = (j + 1) * g(z_j)
    g = tape.gradient(loss, layer.kernel).numpy()[0] / np.arange(1, len(z) + 1)
    return a.numpy()[0], g


@pytest.mark.parametrize(
    "name, expected",
    [
        ("sg1", ((Z >= 0) & (Z <= 0.125)).astype(np.float32)),
        ("sg2", (Z >= 0).astype(np.float32)),
        ({"name": "box", "lo": 0.0, "hi": 0.125, "inclusive": False},
         ((Z >= 0) & (Z < 0.125)).astype(np.float32)),
        ({"name": "box", "lo": 0.0, "hi": 0.25}, ((Z >= 0) & (Z <= 0.25)).astype(np.float32)),
        ({"name": "gaussian", "sigma": 0.5},
         np.exp(-Z.astype(np.float64) ** 2 / 0.5) / (0.5 * np.sqrt(2 * np.pi))),
        ("straight_through", np.ones_like(Z)),
    ],
)
def test_surrogate_gradient_through_layer_equals_formula(name, expected):
    layer = _layer_with_preactivation(Z, surrogate=name)
    a, g = _grad_wrt_z(layer, Z)
    np.testing.assert_array_equal(a, (Z >= 0).astype(np.float32))
    np.testing.assert_allclose(g, expected, rtol=1e-5, atol=1e-7)


def test_every_registry_surrogate_matches_its_derivative_through_layer():
    for name in surrogate.available():
        sg = surrogate.get(name)
        layer = _layer_with_preactivation(Z, surrogate=name)
        _, g = _grad_wrt_z(layer, Z)
        np.testing.assert_allclose(g, sg.derivative(tf.constant(Z)).numpy(), rtol=1e-5,
                                   atol=1e-7, err_msg=name)


def test_forward_is_exactly_binary_and_zero_fires():
    layer = BinaryDense(50, seed=3, dropout=0.0)
    x = np.random.default_rng(0).random((20, 30)).astype(np.float32)
    a = layer(x).numpy()
    assert set(np.unique(a)) <= {0.0, 1.0}
    z = layer.preactivation(x).numpy()
    np.testing.assert_array_equal(a, (z >= 0).astype(np.float32))
    # an all-zero input with zero bias gives z == 0 exactly: every unit fires (>=, not >)
    assert layer(np.zeros((1, 30), np.float32)).numpy().min() == 1.0


def test_truncated_normal_init_std_and_cut():
    layer = BinaryDense(1000, seed=0)
    layer.build((None, 400))
    w = layer.kernel.numpy()
    assert np.abs(w).max() <= 0.02 + 1e-7
    # a normal with std 0.01 truncated at 2 std has std 0.01 * 0.8796
    assert abs(w.std() - 0.008796) < 2e-4
    assert np.all(layer.bias.numpy() == 0)


def test_relu_activation_is_actual_gradient():
    layer = _layer_with_preactivation(Z, activation="relu")
    a, g = _grad_wrt_z(layer, Z)
    np.testing.assert_allclose(a, np.maximum(Z, 0))
    np.testing.assert_array_equal(g, (Z > 0).astype(np.float32))


def test_floor_quantisation_and_straight_through_gradient():
    z = tf.constant([[-1.5, -0.2, 0.0, 0.7, 2.0, 3.999]])
    with tf.GradientTape() as tape:
        tape.watch(z)
        out = FloorLogits()(z)
        loss = tf.reduce_sum(out * tf.constant([[1.0, 2, 3, 4, 5, 6]]))
    np.testing.assert_array_equal(out.numpy(), [[-2, -1, 0, 0, 2, 3]])
    np.testing.assert_array_equal(tape.gradient(loss, z).numpy(), [[1, 2, 3, 4, 5, 6]])
    # floor applied at evaluation by default; optional
    np.testing.assert_array_equal(FloorLogits()(z, training=False).numpy(), out.numpy())
    np.testing.assert_allclose(FloorLogits(at_inference=False)(z, training=False).numpy(),
                               z.numpy())
    np.testing.assert_array_equal(FloorLogits(at_inference=False)(z, training=True).numpy(),
                                  out.numpy())
    np.testing.assert_allclose(FloorLogits(enabled=False)(z, training=True).numpy(), z.numpy())


def test_floor_ste_and_relu_ste_gradients():
    x = tf.constant([-0.5, 0.5, 1.5])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        f = floor_ste(x)
        r = StraightThroughReLU()(x)
    np.testing.assert_array_equal(tape.gradient(f, x).numpy(), [1, 1, 1])
    np.testing.assert_array_equal(r.numpy(), [0, 0.5, 1.5])
    np.testing.assert_array_equal(tape.gradient(r, x).numpy(), [1, 1, 1])


def test_force_off_dropout_sets_minus_one_without_rescaling():
    z = tf.constant(np.linspace(0.01, 2.0, 4000, dtype=np.float32).reshape(40, 100))
    out = force_off_dropout(z, 0.5, seed=7).numpy()
    dropped = out == -1.0
    kept = ~dropped
    np.testing.assert_array_equal(out[kept], z.numpy()[kept])  # unchanged: no 1/(1-p)
    assert 0.45 < dropped.mean() < 0.55
    # same seed, same mask
    np.testing.assert_array_equal(force_off_dropout(z, 0.5, seed=7).numpy(), out)


def test_inverted_dropout_rescales_kept_and_zeroes_dropped():
    z = tf.constant(np.linspace(0.01, 2.0, 4000, dtype=np.float32).reshape(40, 100))
    out = inverted_dropout(z, 0.25, seed=7).numpy()
    kept = out != 0
    np.testing.assert_allclose(out[kept], z.numpy()[kept] / 0.75, rtol=1e-6)
    assert 0.2 < (~kept).mean() < 0.3


def test_force_off_dropped_units_do_not_fire_and_get_no_gradient():
    # z = 0.05 everywhere: inside the sg1 window, so only dropout can silence a unit/gradient
    layer = BinaryDense(400, dropout=0.5, dropout_mode="force_off", seed=1)
    layer.build((None, 1))
    layer.kernel.assign(np.full((1, 400), 0.05, np.float32))
    x = tf.ones((1, 1))
    with tf.GradientTape() as tape:
        a = layer(x, training=True)
        loss = tf.reduce_sum(a)
    g = tape.gradient(loss, layer.kernel).numpy()[0]
    a = a.numpy()[0]
    assert 0.35 < a.mean() < 0.65
    np.testing.assert_array_equal(g, a)  # fired <=> inside window <=> gradient 1
    # no dropout at evaluation
    assert layer(x, training=False).numpy().min() == 1.0


def test_event_matmul_equals_dense_matmul_values_and_gradient():
    rng = np.random.default_rng(0)
    x = (rng.random((16, 50)) < 0.1).astype(np.float32)
    x[3] = 0  # a sample without any active input
    x[5, 7] = 2.5  # non-binary values are weighted, not just counted
    w = tf.Variable(rng.normal(size=(50, 8)).astype(np.float32))
    with tf.GradientTape(persistent=True) as tape:
        e = event_matmul(x, w)
        d = tf.matmul(x, w)
        le, ld = tf.reduce_sum(e * e), tf.reduce_sum(d * d)
    np.testing.assert_allclose(e.numpy(), d.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(tf.convert_to_tensor(tape.gradient(le, w)).numpy(),
                               tape.gradient(ld, w).numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(event_matmul(x > 0, w).numpy(),
                               tf.matmul((x > 0).astype(np.float32), w).numpy(),
                               rtol=1e-5, atol=1e-6)


def test_layer_config_round_trip_and_validation():
    layer = BinaryDense(4, surrogate={"name": "box", "hi": 0.25}, dropout=0.2,
                        dropout_mode="inverted", input_mode="event", seed=5)
    clone = BinaryDense.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    with pytest.raises(ValueError, match="dropout"):
        BinaryDense(4, dropout=1.0)
    with pytest.raises(ValueError, match="dropout_mode"):
        BinaryDense(4, dropout_mode="scaled")
    with pytest.raises(ValueError, match="Unknown surrogate"):
        BinaryDense(4, surrogate="nope")
    with pytest.raises(ValueError, match="units"):
        BinaryDense(0)


def test_event_matmul_input_gradient_only_at_active_inputs():
    rng = np.random.default_rng(1)
    x = tf.constant((rng.random((4, 10)) < 0.3).astype(np.float32))
    w = tf.constant(rng.normal(size=(10, 3)).astype(np.float32))
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = tf.reduce_sum(event_matmul(x, w))
    g = tf.convert_to_tensor(tape.gradient(loss, x)).numpy()
    dense = np.tile(w.numpy().sum(1), (4, 1))
    np.testing.assert_allclose(g, np.where(x.numpy() != 0, dense, 0.0), rtol=1e-6)
