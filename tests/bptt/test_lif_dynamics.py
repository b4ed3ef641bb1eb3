"""LIF/IF/LI dynamics against hand-computed traces (spykeflow.functional.lif)."""

import numpy as np
import pytest
import tensorflow as tf

from spykeflow.functional import lif as F
from spykeflow.functional import surrogate

X = [0.8, 0.8, 0.8, 0.0, 2.5]


def run(x, **params):
    """x: list over time for one neuron -> (spikes list, final v)."""
    cur = tf.constant(np.asarray(x, np.float32).reshape(1, -1, 1))
    s, st = F.lif_sequence(cur, F.LIFParams(**params))
    return s[0, :, 0].numpy().tolist(), float(st.v[0, 0])


@pytest.mark.parametrize(
    "reset, spikes, v_end",
    [
        # beta = 0.5, theta = 1:
        # u: 0.8 | 0.4+0.8=1.2 (spike) | ...
        ("subtract", [0, 1, 0, 0, 1], 1.725),  # v: .8, .2, .9, .45, 2.725-1
        ("zero", [0, 1, 0, 0, 1], 0.0),  # v: .8, 0, .8, .4, 0 (u4 = .2+2.5)
        ("none", [0, 1, 1, 0, 1], 2.85),  # v: .8, 1.2, 1.4, .7, .35+2.5
    ],
)
def test_reset_variants_hand_trace(reset, spikes, v_end):
    s, v = run(X, beta=0.5, threshold=1.0, reset=reset)
    assert s == spikes
    assert v == pytest.approx(v_end, abs=1e-6)


def test_membrane_trace_subtract_step_by_step():
    p = F.LIFParams(beta=0.5, threshold=1.0, reset="subtract")
    state = F.LIFState(tf.zeros([1]), tf.zeros([1]))
    vs = []
    for x in X:
        _, state = F.lif_step(tf.constant([x]), state, p)
        vs.append(float(state.v[0]))
    np.testing.assert_allclose(vs, [0.8, 0.2, 0.9, 0.45, 1.725], atol=1e-6)


def test_decay_without_input():
    # v[t] = beta^t * v0 without spikes: beta = 0.9 on a sub-threshold start.
    p = F.LIFParams(beta=0.9, threshold=10.0)
    s, st = F.lif_sequence(tf.constant([[[0.5], [0.0], [0.0], [0.0]]]), p)
    assert float(tf.reduce_sum(s)) == 0
    assert float(st.v[0, 0]) == pytest.approx(0.5 * 0.9**3, rel=1e-6)


def test_if_is_beta_one():
    p = F.LIFParams(beta=0.3, threshold=1.0, reset="subtract")
    state = F.LIFState(tf.constant([0.7]), tf.zeros([1]))
    s, st = F.if_step(tf.constant([0.4]), state, p)  # u = 0.7 + 0.4 = 1.1 -> spike, v = 0.1
    assert float(s[0]) == 1.0 and float(st.v[0]) == pytest.approx(0.1, abs=1e-6)


def test_threshold_fires_at_equality_and_per_channel():
    # Spike condition is u >= theta (Heaviside at 0 included).
    s, _ = run([1.0], beta=1.0, threshold=1.0)
    assert s == [1.0]
    s, _ = run([0.999], beta=1.0, threshold=1.0)
    assert s == [0.0]
    # Per-channel thresholds broadcast over the last axis: IF, constant input 1.
    cur = tf.ones((1, 4, 2))
    spikes, _ = F.lif_sequence(cur, F.LIFParams(beta=1.0, threshold=tf.constant([0.5, 2.0])))
    assert spikes[0, :, 0].numpy().tolist() == [1, 1, 1, 1]
    assert spikes[0, :, 1].numpy().tolist() == [0, 1, 0, 1]


def test_synaptic_current():
    # alpha = 0.5, beta = 0.5, theta = 1.5, one input pulse of 1:
    # i: 1, .5, .25, .125;  u: 1, .5+.5=1.0, .5+.25=.75, .375+.125=.5
    cur = tf.constant([[[1.0], [0.0], [0.0], [0.0]]])
    p = F.LIFParams(beta=0.5, threshold=1.5, alpha=0.5)
    state = F.initial_state(cur[:, 0])
    us = []
    for t in range(4):
        _, state = F.lif_step(cur[:, t], state, p)
        us.append(float(state.v[0, 0]))
    np.testing.assert_allclose(us, [1.0, 1.0, 0.75, 0.5], atol=1e-6)
    assert float(state.i[0, 0]) == pytest.approx(0.125)
    # Without synaptic current the pulse decays faster: 1, .5, .25, .125.
    _, st = F.lif_sequence(cur, p._replace(alpha=None))
    assert float(st.v[0, 0]) == pytest.approx(0.125)
    # A second pulse crosses the threshold only thanks to the synaptic trace.
    cur2 = tf.constant([[[1.0], [0.6], [0.0]]])
    s_syn, _ = F.lif_sequence(cur2, p)  # u1 = .5 + (.5 + .6) = 1.6 -> spike
    s_cub, _ = F.lif_sequence(cur2, p._replace(alpha=None))  # u1 = .5 + .6 = 1.1
    assert s_syn[0, :, 0].numpy().tolist() == [0, 1, 0]
    assert s_cub[0, :, 0].numpy().tolist() == [0, 0, 0]


def test_floor_clamps_at_multiple_of_threshold():
    s, v = run([-3.0, 0.5], beta=1.0, threshold=2.0, floor=-1.0)  # v: max(-3, -2) = -2; -1.5
    assert v == pytest.approx(-1.5)
    _, v = run([-3.0, 0.5], beta=1.0, threshold=2.0)
    assert v == pytest.approx(-2.5)


def test_rest_form_of_samadzadeh_is_reset_zero():
    # U(t) = a (1 - O(t-1)) U(t-1) + I(t)
    a, theta = 0.8, 1.0
    x = np.array([0.6, 0.6, 0.6, 0.1, 0.9], np.float32)
    u_prev, o_prev, expected = 0.0, 0.0, []
    for xt in x:
        u = a * (1 - o_prev) * u_prev + xt
        o = float(u >= theta)
        expected.append(o)
        u_prev, o_prev = u, o
    s, _ = run(x.tolist(), beta=a, threshold=theta, reset="zero")
    assert s == expected


def test_li_readout_trace():
    v, st = F.li_sequence(tf.constant([[[1.0], [0.0], [2.0]]]), F.LIParams(beta=0.5))
    np.testing.assert_allclose(v[0, :, 0].numpy(), [1.0, 0.5, 2.25])
    v, _ = F.li_sequence(tf.constant([[[1.0], [0.0], [0.0]]]), F.LIParams(beta=0.5, alpha=0.5))
    np.testing.assert_allclose(v[0, :, 0].numpy(), [1.0, 1.0, 0.75])  # i: 1, .5, .25


def test_bptt_gradient_through_time_equals_formula():
    # reset none: u2 = b^2 x0 + b x1 + x2; ds2/dx0 = g(u2 - theta) * b^2 (Gaussian surrogate).
    b, theta = 0.7, 1.0
    x = tf.Variable([[[0.5], [0.2], [0.3]]])
    sur = surrogate.get("gaussian", sigma=0.5)
    with tf.GradientTape() as tape:
        s, _ = F.lif_sequence(x, F.LIFParams(beta=b, threshold=theta, reset="none", spike_fn=sur))
        out = s[0, 2, 0]
    g = tape.gradient(out, x).numpy()[0, :, 0]
    u2 = b * b * 0.5 + b * 0.2 + 0.3
    gauss = np.exp(-((u2 - theta) ** 2) / (2 * 0.25)) / (0.5 * np.sqrt(2 * np.pi))
    np.testing.assert_allclose(g, [gauss * b * b, gauss * b, gauss], rtol=1e-5)


def test_threshold_gradient_and_detach_reset():
    theta = tf.Variable(1.0)
    with tf.GradientTape() as tape:
        s, _ = F.lif_sequence(tf.constant([[[0.8]]]), F.LIFParams(threshold=theta))
        out = tf.reduce_sum(s)
    g = float(tape.gradient(out, theta))
    sur = surrogate.get("gaussian")
    assert g == pytest.approx(-float(sur.derivative(tf.constant(-0.2))), rel=1e-5)
    # With reset="subtract", the gradient of v w.r.t. the input goes through the spike unless
    # detached: dv/dx = 1 - g(u - theta) * theta vs 1.
    for detach, expect in ((False, 1 - float(sur.derivative(tf.constant(0.0)))), (True, 1.0)):
        x = tf.Variable([[[1.0]]])
        with tf.GradientTape() as tape:
            _, st = F.lif_sequence(x, F.LIFParams(beta=1.0, detach_reset=detach))
            v = st.v[0, 0]
        assert float(tape.gradient(v, x)[0, 0, 0]) == pytest.approx(expect, rel=1e-5)


def test_custom_spike_fn_switchable_activation():
    relu = tf.nn.relu  # e.g. the smooth phase of a switchable activation
    s, _ = F.lif_sequence(tf.constant([[[1.5], [0.2]]]),
                          F.LIFParams(beta=1.0, threshold=1.0, reset="subtract", spike_fn=relu))
    # out0 = relu(1.5 - 1) = .5, v = 1.5 - .5 = 1.0; u1 = 1.2 -> out1 = .2
    np.testing.assert_allclose(s[0, :, 0].numpy(), [0.5, 0.2], atol=1e-6)


def test_bad_inputs():
    with pytest.raises(ValueError, match="reset"):
        F.lif_sequence(tf.zeros((1, 2, 1)), F.LIFParams(reset="hard"))
    with pytest.raises(ValueError, match=r"\(N, T, \.\.\.\)"):
        F.lif_sequence(tf.zeros((3,)), F.LIFParams())
    with pytest.raises(ValueError, match="time step"):
        F.lif_sequence(tf.zeros((1, 0, 3)), F.LIFParams())


def test_compiles_in_graph_and_xla():
    p = F.LIFParams(beta=0.5, reset="zero", alpha=0.5)
    x = tf.constant(np.random.default_rng(0).random((2, 6, 3)).astype("float32") * 1.5)
    eager = F.lif_sequence(x, p)[0]
    graph = tf.function(lambda v: F.lif_sequence(v, p)[0])(x)
    xla = tf.function(lambda v: F.lif_sequence(v, p)[0], jit_compile=True)(x)
    np.testing.assert_array_equal(eager.numpy(), graph.numpy())
    np.testing.assert_array_equal(eager.numpy(), xla.numpy())


def _grads_through_time(fn, x, variables, graph):
    def run():
        with tf.GradientTape() as tape:
            tape.watch(x)
            out, final = fn(x)
            weight = tf.reshape(tf.range(tf.size(out), dtype=tf.float32), out.shape) / 10.0
            loss = tf.reduce_sum(out * weight) + tf.reduce_sum(final.v ** 2)
        return [out, final.v] + tape.gradient(loss, [x] + variables)

    return [r.numpy() for r in (tf.function(run)() if graph else run())]


@pytest.mark.parametrize("graph", [False, True])
@pytest.mark.parametrize("reset", ["subtract", "zero"])
def test_remat_gives_same_forward_and_gradients(graph, reset):
    # Trainable decays and threshold as variables: with remat they must still get gradients.
    x = tf.constant(np.random.default_rng(1).random((2, 7, 3)).astype("float32") * 1.5)
    beta = tf.Variable([0.5, 0.7, 0.9])
    theta = tf.Variable([0.8, 1.0, 1.2])
    alpha = tf.Variable([0.3, 0.5, 0.7])
    p = F.LIFParams(beta=beta, threshold=theta, reset=reset, alpha=alpha, floor=-1.0)
    li = F.LIParams(beta=beta, alpha=alpha)
    for fn, variables in (
        (lambda remat: lambda v: F.lif_sequence(v, p, remat=remat), [beta, theta, alpha]),
        (lambda remat: lambda v: F.lif_sequence(v, p._replace(alpha=None), remat=remat),
         [beta, theta]),
        (lambda remat: lambda v: F.li_sequence(v, li, remat=remat), [beta, alpha]),
    ):
        plain = _grads_through_time(fn(False), x, variables, graph)
        remat = _grads_through_time(fn(True), x, variables, graph)
        assert all(np.abs(g).max() > 0 for g in plain[2:])  # every gradient is non-trivial
        for a, b in zip(plain, remat):
            np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-6)
    with pytest.raises(TypeError, match="remat"):
        F.lif_sequence(x, p, remat="yes")


@pytest.mark.parametrize("steps", [7, 40])  # unrolled (<= TF_UNROLL_MAX), tf.while_loop
def test_time_loop_and_its_gradient_compile_with_xla(steps):
    """The TensorFlow time loop (spykeflow._backend.scan: unrolled, or a tf.while_loop with
    maximum_iterations) compiles with XLA (jit_compile=True) with its gradient and gives the
    graph-mode numbers."""
    x = tf.constant(np.random.default_rng(0).random((3, steps, 5)).astype("float32"))
    beta = tf.Variable(0.8)

    def grads(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            s, _ = F.lif_sequence(x, F.LIFParams(beta=beta, threshold=0.5, alpha=0.5))
            loss = tf.reduce_sum(s * tf.range(1.0, steps + 1.0)[None, :, None])
        return (s,) + tuple(tape.gradient(loss, [x, beta]))

    plain = tf.function(grads)(x)
    xla = tf.function(grads, jit_compile=True)(x)
    for a, b in zip(plain, xla):
        np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-5, atol=1e-6)


def test_unrolled_time_loop_equals_the_while_loop(monkeypatch):
    """TensorFlow unrolls short static loops; the outputs and gradients are those of the
    tf.while_loop it replaces."""
    from spykeflow import _backend

    x = tf.constant(np.random.default_rng(1).random((4, 9, 6)).astype("float32"))
    beta = tf.Variable(0.7)

    def grads(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            s, state = F.lif_sequence(x, F.LIFParams(beta=beta, threshold=0.5, alpha=0.5))
            loss = tf.reduce_sum(s * tf.range(1.0, 10.0)[None, :, None]) + tf.reduce_sum(
                state.v)
        return (s, state.v) + tuple(tape.gradient(loss, [x, beta]))

    unrolled = tf.function(grads)(x)
    monkeypatch.setattr(_backend, "TF_UNROLL_MAX", 0)
    looped = tf.function(grads)(x)
    for a, b in zip(unrolled, looped):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-6)
