"""Send-on-delta encoders: reconstruction within delta, equivalences, errors (hypothesis)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spykeflow.functional.send_on_delta import (
    multi_send_on_delta,
    reconstruct_multi_send_on_delta,
    reconstruct_send_on_delta,
    send_on_delta,
)


def _slow_walk(seed, n, t, f, delta):
    rng = np.random.default_rng(seed)
    steps = rng.uniform(-delta, delta, size=(n, t, f))
    start = rng.uniform(-delta, delta, size=(n, 1, f))
    return np.cumsum(np.concatenate([start, steps[:, 1:]], axis=1), axis=1)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), delta=st.floats(0.05, 3.0), t=st.integers(1, 40),
       f=st.integers(1, 3))
def test_reconstruction_within_delta(seed, delta, t, f):
    x = _slow_walk(seed, 2, t, f, delta)
    s = send_on_delta(x, delta)
    r = reconstruct_send_on_delta(s, delta)
    assert s.shape == (2, t, f, 2) and s.dtype == bool
    assert np.all(np.abs(x - r) < delta + 1e-12)
    assert not np.any(s[..., 0] & s[..., 1])  # never ON and OFF together


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), delta=st.floats(0.1, 2.0))
def test_event_count_is_minimal_for_monotone_signals(seed, delta):
    rng = np.random.default_rng(seed)
    x = np.cumsum(rng.uniform(0, delta, size=(1, 30, 1)), axis=1)
    s = send_on_delta(x, delta)
    assert s[..., 1].sum() == 0
    assert s[..., 0].sum() == int(np.floor(x[0, -1, 0] / delta + 1e-12))


def test_per_feature_delta_and_initial_reference():
    x = np.array([[[1.0, 1.0], [1.0, 1.0]]])
    s = send_on_delta(x, [0.5, 2.0], initial=[[1.0, 0.0]])
    assert s[0, :, 0].sum() == 0  # starts at its own level
    assert s[0, :, 1].sum() == 0  # 1.0 < 2.0 away from 0
    r = reconstruct_send_on_delta(s, [0.5, 2.0], initial=[[1.0, 0.0]])
    np.testing.assert_allclose(r[0, -1], [1.0, 0.0])


def test_fast_changes_are_slew_limited():
    s = send_on_delta(np.array([[[0.0], [3.0], [3.0], [3.0]]]), 1.0)
    np.testing.assert_array_equal(reconstruct_send_on_delta(s, 1.0)[0, :, 0], [0, 1, 2, 3])


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), delta=st.floats(0.1, 2.0), f=st.integers(1, 3))
def test_multi_with_axis_directions_equals_one_d(seed, delta, f):
    x = _slow_walk(seed, 2, 20, f, delta)
    w = np.concatenate([[delta * e, -delta * e] for e in np.eye(f)])  # (2F, F): ON_f, OFF_f
    multi = multi_send_on_delta(x, w)
    one = send_on_delta(x, delta)
    np.testing.assert_array_equal(multi.reshape(2, 20, f, 2), one)
    np.testing.assert_allclose(reconstruct_multi_send_on_delta(multi, w),
                               reconstruct_send_on_delta(one, delta), atol=1e-9)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), k=st.integers(6, 12), delta=st.floats(0.2, 2.0))
def test_multi_2d_error_bounded_by_direction_fan(seed, k, delta):
    # K unit directions spread over the circle, length delta: after each step every
    # projection of the error is < delta, so ||x - r|| < delta / cos(pi / K).
    angles = 2 * np.pi * np.arange(k) / k
    w = delta * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    x = _slow_walk(seed, 2, 25, 2, delta / 2)
    s = multi_send_on_delta(x, w)
    r = reconstruct_multi_send_on_delta(s, w)
    err = np.linalg.norm(x - r, axis=-1)
    assert np.all(err < delta / np.cos(np.pi / k) + 1e-9)
    # the potentials <w_k, x - r> stay below the thresholds ||w_k||^2
    assert np.all((x - r) @ w.T < delta**2 + 1e-9)


def test_multi_lateral_reset_moves_reference_by_w():
    w = np.array([[1.0, 0.0], [0.6, 0.8]])
    x = np.array([[[1.5, 0.0]]])
    s = multi_send_on_delta(x, w)
    # neuron 0: <w0, x> / 1 = 1.5 >= 1 fires (ratio 1.5 > neuron 1's 0.9); then
    # the residual (0.5, 0) projects to 0.3 < 1 on w1: nothing else fires.
    np.testing.assert_array_equal(s[0, 0], [True, False])
    np.testing.assert_allclose(reconstruct_multi_send_on_delta(s, w)[0, 0], [1.0, 0.0])


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: send_on_delta(np.zeros((3, 4)), 1.0), ValueError, r"\(N, T, F\)"),
        (lambda: send_on_delta(np.zeros((1, 3, 2)), 0.0), ValueError, "delta > 0"),
        (lambda: send_on_delta(np.zeros((1, 3, 2)), [1.0, 1.0, 1.0]), ValueError, "per feature"),
        (lambda: send_on_delta(np.full((1, 2, 1), np.nan), 1.0), ValueError, "finite"),
        (lambda: send_on_delta(np.array([[["a"]]]), 1.0), TypeError, "numeric"),
        (lambda: send_on_delta(np.zeros((1, 3, 2)), 1.0, initial=np.zeros(3)), ValueError,
         "initial"),
        (lambda: reconstruct_send_on_delta(np.zeros((1, 3, 2)), 1.0), ValueError, "ON, OFF"),
        (lambda: multi_send_on_delta(np.zeros((1, 3, 2)), np.zeros((2, 2))), ValueError,
         "non-zero"),
        (lambda: multi_send_on_delta(np.zeros((1, 3, 2)), np.ones((2, 3))), ValueError, "K, F"),
        (lambda: reconstruct_multi_send_on_delta(np.zeros((1, 3, 2)), np.ones((3, 2))),
         ValueError, "same K"),
    ],
)
def test_errors(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_delta_encoder_equals_the_functions():
    from spykeflow.encoders import DeltaEncoder

    x = _slow_walk(3, 2, 30, 3, 0.4)
    s = DeltaEncoder(0.4).transform(x)
    np.testing.assert_array_equal(s, send_on_delta(x, 0.4))
    assert np.abs(reconstruct_send_on_delta(s, 0.4) - x).max() < 0.4
    w = np.array([[0.5, 0.0, 0.0], [-0.5, 0.0, 0.0], [0.0, 0.5, 0.5], [0.0, -0.5, -0.5]])
    np.testing.assert_array_equal(DeltaEncoder(directions=w, initial=0.1).transform(x),
                                  multi_send_on_delta(x, w, initial=0.1))
    with pytest.raises(ValueError, match="exactly one of delta"):
        DeltaEncoder().transform(x)
    with pytest.raises(ValueError, match="exactly one of delta"):
        DeltaEncoder(0.4, directions=w).transform(x)
