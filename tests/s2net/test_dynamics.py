"""s2net dynamics: lateral reset, normalised thresholds, (1 - beta) input, regulariser gradient."""

import numpy as np
import pytest
import tensorflow as tf

from spykeflow.functional import s2net as F
from spykeflow.functional import surrogate

SPIKE = surrogate.get("sigmoid", scale=10.0)


def test_gram_is_w_wt_over_vectorised_kernels():
    k = np.arange(2 * 3 * 1 * 2, dtype=np.float32).reshape(2, 3, 1, 2)  # (kt, kl, cin, C=2)
    flat = k.reshape(-1, 2)
    expected = flat.T @ flat
    np.testing.assert_allclose(F.kernel_gram(k).numpy(), expected)


def test_lateral_reset_equals_w_wt_s_hand_computed():
    # W rows = preferred directions of 3 neurons over 2 inputs -> kernel (F_in=2, C=3)
    w = np.array([[1.0, 0.0, 1.0], [0.0, 2.0, 1.0]], np.float32)
    # G = W^T W = [[1, 0, 1], [0, 4, 2], [1, 2, 2]]
    p = F.s2net_params(w, beta=0.5, threshold=[1.0, 1.0, 1.0], lateral=True)
    np.testing.assert_allclose(p.gram.numpy(), [[1, 0, 1], [0, 4, 2], [1, 2, 2]])
    state = F.S2NetState(u=tf.constant([[10.0, 10.0, 10.0]]), s=tf.constant([[1.0, 0.0, 1.0]]))
    _, new = F.s2net_step(tf.zeros((1, 3)), state, p, SPIKE)
    # R = G @ S = [1 + 1, 0 + 2, 1 + 2] = [2, 2, 3]; U = 0.5 (10 - R) + 0.5 * 0
    np.testing.assert_allclose(new.u.numpy(), [[4.0, 4.0, 3.5]])


def test_without_lateral_only_self_reset_by_norm():
    w = np.array([[1.0, 0.0, 1.0], [0.0, 2.0, 1.0]], np.float32)
    p = F.s2net_params(w, beta=0.5, threshold=[1.0] * 3, lateral=False)
    state = F.S2NetState(u=tf.constant([[10.0, 10.0, 10.0]]), s=tf.constant([[1.0, 0.0, 1.0]]))
    _, new = F.s2net_step(tf.zeros((1, 3)), state, p, SPIKE)
    # R = diag(1, 4, 2) S = [1, 0, 2]
    np.testing.assert_allclose(new.u.numpy(), [[4.5, 5.0, 4.0]])


def test_input_scaled_by_one_minus_beta_and_leak():
    w = np.eye(2, dtype=np.float32)
    p = F.s2net_params(w, beta=0.8, threshold=[100.0, 100.0])
    u = F.s2net_scan(tf.ones((1, 3, 2)), p, SPIKE, return_potentials=True)[1].numpy()[0, :, 0]
    # U[n] = 0.8 U[n-1] + 0.2 * 1
    np.testing.assert_allclose(u, [0.2, 0.36, 0.488], rtol=1e-6)


def test_threshold_normalised_by_squared_weight_norm():
    # ||w||^2 = 4: U = 3.9 stays silent with b = 1, U = 4 fires; b = 0.5 halves the level.
    w = np.array([[2.0]], np.float32)
    for b, current, fires in [(1.0, 3.9, 0.0), (1.0, 4.0, 1.0), (0.5, 2.0, 1.0), (0.5, 1.9, 0.0)]:
        p = F.s2net_params(w, beta=0.0, threshold=[b])
        s, _ = F.s2net_step(tf.constant([[current]]), F.s2net_initial_state([1], 1), p, SPIKE)
        assert float(s[0, 0]) == fires, (b, current)


def test_scaling_weights_scales_threshold_quadratically():
    # U = (1 - beta) W x grows linearly in the scale of W, the threshold quadratically
    x = tf.constant([[[1.0]]])
    rates = []
    for scale in (0.5, 2.0):
        w = np.array([[scale]], np.float32)
        p = F.s2net_params(w, beta=0.0, threshold=[1.0])
        rates.append(float(F.s2net_scan(x * scale, p, SPIKE)[0, 0, 0]))
    assert rates == [1.0, 0.0]


def test_on_off_pair_implements_send_on_delta_reset():
    # section 4.3: w_ON = +1, w_OFF = -1; after ON fires both potentials are back to x - x_ref
    w = np.array([[1.0, -1.0]], np.float32)
    p = F.s2net_params(w, beta=0.5, threshold=[1.0, 1.0])
    st = F.S2NetState(u=tf.constant([[1.2, -1.2]]), s=tf.constant([[1.0, 0.0]]))
    _, new = F.s2net_step(tf.zeros((1, 2)), st, p, SPIKE)
    np.testing.assert_allclose(new.u.numpy(), [[0.1, -0.1]], rtol=1e-6)


def test_recurrent_weights_add_to_current():
    w = np.eye(2, dtype=np.float32)
    v = tf.constant([[0.0, 3.0], [0.0, 0.0]])  # neuron 0 excites neuron 1
    p = F.s2net_params(w, beta=0.5, threshold=[10.0, 10.0], lateral=False, recurrent=v)
    st = F.S2NetState(u=tf.zeros((1, 2)), s=tf.constant([[1.0, 0.0]]))
    _, new = F.s2net_step(tf.zeros((1, 2)), st, p, SPIKE)
    # u0 = 0.5 (0 - 1) = -0.5 (self reset by ||w0||^2 = 1); u1 = 0.5 * 3
    np.testing.assert_allclose(new.u.numpy(), [[-0.5, 1.5]])


def test_regulariser_gradient_zero_for_silent_neurons():
    u = tf.Variable([[-0.05, 0.05, -0.5, 0.3]])  # x = u - b with b = 0 -> spikes [0, 1, 0, 1]
    with tf.GradientTape(persistent=True) as tape:
        s = SPIKE(u)
        loss_sq = F.spike_count_loss(s)
        loss_lin = 0.5 * tf.reduce_mean(s)
    g_sq = tape.gradient(loss_sq, u).numpy()[0]
    g_lin = tape.gradient(loss_lin, u).numpy()[0]
    np.testing.assert_array_equal(s.numpy()[0], [0, 1, 0, 1])
    assert g_sq[0] == 0.0 and g_sq[2] == 0.0
    assert g_sq[1] > 0 and g_sq[3] > 0
    # the linear count would push the silent neuron near threshold as well
    assert g_lin[0] > 0
    # d(1/2 mean S^2)/du = S g(u) / n
    expected = np.array([0, 1, 0, 1]) * SPIKE.derivative(u).numpy()[0] / 4
    np.testing.assert_allclose(g_sq, expected, rtol=1e-6)


def test_scan_rejects_low_rank():
    p = F.s2net_params(np.eye(2, dtype=np.float32), 0.5, [1.0, 1.0])
    with pytest.raises(ValueError, match="rank >= 3"):
        F.s2net_scan(tf.zeros((2, 2)), p, SPIKE)


def test_clip_gradient_is_identity_forward_and_clips_backward():
    v = tf.Variable([1.0, 2.0, -3.0])
    with tf.GradientTape() as tape:
        y = F.clip_gradient(v, 5.0)
        loss = tf.reduce_sum(tf.constant([100.0, 2.0, -100.0]) * y)
    np.testing.assert_array_equal(y.numpy(), v.numpy())
    np.testing.assert_array_equal(tape.gradient(loss, v).numpy(), [5.0, 2.0, -5.0])


def test_gram_gradient_is_w_times_g_plus_g_transposed():
    k = tf.constant(np.random.default_rng(0).normal(size=(3, 2, 4)).astype(np.float32))
    c = tf.constant(np.random.default_rng(1).normal(size=(4, 4)).astype(np.float32))
    with tf.GradientTape() as tape:
        tape.watch(k)
        loss = tf.reduce_sum(F.kernel_gram(k) * c)
    flat = k.numpy().reshape(-1, 4)
    expected = (flat @ (c.numpy() + c.numpy().T)).reshape(3, 2, 4)
    np.testing.assert_allclose(tape.gradient(loss, k).numpy(), expected, rtol=1e-5, atol=1e-6)
