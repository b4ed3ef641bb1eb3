"""QCFS math: forward formula with its floor/clip edges, straight-through gradients, IF neuron."""

import keras
import numpy as np
import pytest

from spykeflow.functional import qcfs as F


def _np(x):
    return keras.ops.convert_to_numpy(x)


# lambda = 1, L = 4, phi = 0.5: steps at z = 0.125, 0.375, 0.625, 0.875 (z L + 0.5 integer);
# the straight-through window is [-0.125, 0.875).
Z = np.array([-0.2, -0.125, 0.0, 0.12499, 0.125, 0.3, 0.6, 0.87499, 0.875, 2.0], "float32")
A = [0.0, 0.0, 0.0, 0.0, 0.25, 0.25, 0.5, 0.75, 1.0, 1.0]
DZ = [0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0]
# (a - z) / lambda inside the window, 1 above, 0 below
DL = [0.0, 0.125, 0.0, -0.12499, 0.125, -0.05, -0.1, -0.12499, 1.0, 1.0]


def test_forward_exact_values_with_edges():
    np.testing.assert_array_equal(_np(F.qcfs(Z, 1.0, 4)), np.array(A, "float32"))


def test_forward_scales_with_lambda_and_shift():
    # lambda = 2, L = 4: a = 2 * clip(floor(2 z + 0.5) / 4, 0, 1)
    z = np.array([0.24, 0.25, 1.3, 1.74, 1.75], "float32")
    assert _np(F.qcfs(z, 2.0, 4)).tolist() == [0.0, 0.5, 1.5, 1.5, 2.0]
    # phi = 0: plain floor, lambda only reached at z = lambda
    assert _np(F.qcfs(np.array([0.3, 0.99, 1.0], "float32"), 1.0, 4, shift=0.0)).tolist() == [
        0.25, 0.75, 1.0]


@pytest.mark.skipif(keras.backend.backend() != "tensorflow",
                    reason="GradientTape; every backend: tests/backends/cases_qcfs.py")
def test_gradient_is_straight_through_of_eq17():
    import tensorflow as tf

    z = tf.constant(Z)
    lam = tf.Variable(1.0)
    up = tf.constant(np.arange(1, len(Z) + 1, dtype="float32"))  # distinct upstream weights
    with tf.GradientTape() as tape:
        a = F.qcfs(z, lam, 4)
        loss = tf.reduce_sum(a * up)
    with tf.GradientTape() as tape_z:
        tape_z.watch(z)
        loss_z = tf.reduce_sum(F.qcfs(z, lam, 4) * up)
    g_lam = tape.gradient(loss, lam)
    g_z = tape_z.gradient(loss_z, z)
    np.testing.assert_allclose(g_z.numpy(), np.array(DZ) * up.numpy(), rtol=1e-6)
    np.testing.assert_allclose(float(g_lam), float(np.dot(DL, up.numpy())), rtol=1e-5)


def test_gradient_window_depends_on_lambda_and_L():
    # lambda = 2, L = 8, phi = 0.5: window [-0.125, 1.875)
    z = np.array([-0.13, -0.125, 1.87, 1.875], "float32")
    dz, dl = F.qcfs_gradients(z, 2.0, 8)
    assert _np(dz).tolist() == [0.0, 1.0, 1.0, 0.0]
    a = _np(F.qcfs(z, 2.0, 8))
    np.testing.assert_allclose(_np(dl), [0.0, (a[1] + 0.125) / 2, (a[2] - 1.87) / 2, 1.0],
                               rtol=1e-6)


def test_if_step_reset_by_subtraction():
    st = F.if_init((3,), 2.0, shift=0.5)  # v(0) = 1
    current = np.array([0.5, 1.0, 5.0], "float32")
    out, st = F.if_step(current, st, 2.0)
    assert _np(out).tolist() == [0.0, 2.0, 2.0]          # m = 1.5, 2.0 (>= fires), 6.0
    assert _np(st.v).tolist() == [1.5, 0.0, 4.0]          # subtract theta, not reset to 0
    out, st = F.if_step(current, st, 2.0)
    assert _np(out).tolist() == [2.0, 0.0, 2.0]
    assert _np(st.v).tolist() == [0.0, 1.0, 7.0]


@pytest.mark.parametrize("theta", [1.0, 0.5, 3.0])
def test_if_spike_count_matches_simulation_and_qcfs(theta):
    rng = np.random.default_rng(0)
    # dyadic currents (exact in float32), including the exact step edges and out-of-range values
    z = (rng.integers(-40, 200, 300) / 128.0 * theta).astype("float32")
    st, n = F.if_init(z.shape, theta), np.zeros(z.shape)
    for t in range(1, 17):
        out, st = F.if_step(z, st, theta)
        n += _np(out) / theta
        np.testing.assert_array_equal(n, F.if_spike_count(z, theta, t))
        # the mean output after T steps equals QCFS with L = T
        np.testing.assert_allclose((theta * n / t).astype("float32"),
                                   _np(F.qcfs(z, theta, t)), rtol=1e-6)


def test_fold_batch_norm_matches_keras():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(5, 3)).astype("float32")
    k, b = rng.normal(size=(3, 4)).astype("float32"), rng.normal(size=4).astype("float32")
    bn = keras.layers.BatchNormalization(epsilon=1e-3)
    bn.build((None, 4))
    stats = [rng.uniform(0.5, 2, 4), rng.normal(size=4), rng.normal(size=4), rng.uniform(0.5, 2, 4)]
    bn.set_weights([s.astype("float32") for s in stats])
    ref = _np(bn(x @ k + b, training=False))
    k2, b2 = F.fold_batch_norm(k, b, *stats, 1e-3)
    np.testing.assert_allclose(x @ k2 + b2, ref, rtol=1e-5, atol=1e-5)
