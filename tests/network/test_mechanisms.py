"""Hand-built cases for each mechanism (reference N2-N4, S3-S5, S7, S8, S10, P1-P4)."""

import numpy as np
import pytest

from spykeflow.functional import competition, inhibition, integrate_fire, pooling, stdp
from spykeflow.functional import feature_pass, spike_events


# ---------------------------------------------------------------- N2/N3 integrate-and-fire
def test_if_is_cumulative_without_leak_or_reset():
    v = np.zeros(1, np.float32)
    history = []
    for cur in (10.0, 6.0, 0.0, 0.0):
        crossed, v = integrate_fire.if_step(np.array([cur], np.float32), v, 15.0)
        history.append((bool(crossed[0]), float(v[0])))
    # crosses at step 1 and stays above threshold: no reset, no leak
    assert history == [(False, 10.0), (True, 16.0), (True, 16.0), (True, 16.0)]


def test_threshold_is_inclusive_unless_strict():
    assert integrate_fire.above_threshold(np.float32(15.0), 15.0)
    assert not integrate_fire.above_threshold(np.float32(15.0), 15.0, strict=True)


def test_conv_valid_matches_tensorflow_cumulative(rng):
    s = rng.random((2, 3, 7, 6, 2)) < 0.3
    w = rng.random((3, 3, 2, 4)).astype(np.float32)
    v = integrate_fire.cumulative_potentials(s, w)
    for n in range(2):
        acc = np.zeros((5, 4, 4), np.float32)
        for t in range(3):
            acc += integrate_fire.conv_valid(s[n, t], w)
            np.testing.assert_allclose(v[n, t], acc, rtol=1e-5)


def test_threshold_jitter_is_seeded_and_bounded():
    a = integrate_fire.draw_thresholds(15.0, 0.1, 1000, np.random.default_rng(3))
    b = integrate_fire.draw_thresholds(15.0, 0.1, 1000, np.random.default_rng(3))
    assert (a == b).all() and a.min() >= 13.5 and a.max() <= 16.5 and a.std() > 0.5


# ---------------------------------------------------------------- N4 lateral inhibition
def test_inhibition_one_spike_per_position_in_argmax_map_ties_lowest():
    v = np.array([[[15.0, 18.0, 16.0], [20.0, 20.0, 3.0]],
                  [[1.0, 2.0, 3.0], [17.0, 17.0, 17.0]]], np.float32)     # (2, 2, 3)
    s, fired = inhibition.lateral_inhibition(v, v >= 15, np.zeros((2, 2), bool))
    assert s.sum(axis=-1).tolist() == [[1, 1], [0, 1]]
    assert np.argmax(s, axis=-1)[s.any(-1)].tolist() == [1, 0, 0]        # argmax; ties -> lowest
    assert fired.tolist() == [[True, True], [False, True]]
    # a fired position is silent for the rest of the sample, even with higher potentials
    s2, _ = inhibition.lateral_inhibition(v + 100, v + 100 >= 15, fired)
    assert s2.sum() == 1 and s2[1, 0].any()


def test_argmax_map_wins_even_if_another_map_crossed_first_at_this_step():
    # both maps above threshold at the first crossing step: the higher potential wins
    v = np.zeros((3, 1, 1, 2), np.float32)
    v[1, 0, 0] = [15.0, 30.0]
    v[2, 0, 0] = [40.0, 30.0]
    s = inhibition.inhibit_sequence(v, 15.0)
    assert np.argwhere(s).tolist() == [[1, 0, 0, 1]]


def test_inhibit_sequence_equals_stepwise(rng):
    v = np.cumsum(rng.random((6, 5, 5, 4)).astype(np.float32) * 5, axis=0)
    for inh in (True, False):
        seq = inhibition.inhibit_sequence(v, 12.0, inhibition=inh)
        fired = np.zeros((5, 5), bool)
        spiked = np.zeros((5, 5, 4), bool)
        for t in range(6):
            if inh:
                s, fired = inhibition.lateral_inhibition(v[t], v[t] >= 12, fired)
            else:
                s, spiked = inhibition.first_crossing(v[t] >= 12, spiked)
            assert (seq[t] == s).all()
        if inh:
            assert seq.sum(axis=(0, 3)).max() <= 1
        else:
            assert seq.sum(axis=0).max() <= 1          # first crossings only


# ---------------------------------------------------------------- S3/S4 competition
def _k(entries, shape=(7, 7, 3)):
    k = np.zeros(shape)
    for (r, c, m), v in entries.items():
        k[r, c, m] = v
    return k


def test_competition_window_blocks_all_maps_and_one_winner_per_map():
    k = _k({(3, 3, 0): 30, (4, 4, 1): 29, (3, 6, 2): 28, (0, 0, 0): 27})
    w = competition.stdp_competition(k, window=3)
    # (4,4) map 1 is inside the 3x3 window of (3,3); (0,0) is map 0's second neuron
    assert w == [(0, 3, 3), (2, 3, 6)]
    allowed = competition.block_winners(np.ones(k.shape, bool), w, 3)
    assert not allowed[2:5, 2:5].any() and not allowed[..., 0].any() and not allowed[..., 2].any()
    assert allowed[0, 0, 1] and allowed[6, 0, 1]


def test_greedy_all_differs_from_per_map_max():
    # map 0's best neuron (25) is inhibited by map 1's (30); map 0 still wins elsewhere with 20
    k = _k({(3, 3, 1): 30, (3, 4, 0): 25, (0, 0, 0): 20})
    assert competition.stdp_competition(k, 3, "greedy_all") == [(1, 3, 3), (0, 0, 0)]
    assert competition.stdp_competition(k, 3, "per_map_max") == [(1, 3, 3)]


def test_competition_ties_first_row_major():
    k = _k({(2, 5, 0): 20, (4, 1, 1): 20, (2, 3, 2): 20})
    assert competition.stdp_competition(k, 1, "greedy_all")[0] == (2, 2, 3)
    assert competition.stdp_competition(k, 1, "per_map_max")[0] == (2, 2, 3)
    # equal value at the same position in two maps: lowest map
    k2 = _k({(1, 1, 2): 20, (1, 1, 1): 20})
    assert competition.stdp_competition(k2, 1) == [(1, 1, 1)]
    assert competition.stdp_competition(k2, 1, "per_map_max") == [(1, 1, 1)]


def test_competition_rejects_unknown_mode():
    with pytest.raises(ValueError, match="greedy_all"):
        competition.stdp_competition(np.zeros((2, 2, 1)), 3, "best")


# ---------------------------------------------------------------- S5 STDP, S8 init, S10 metrics
def test_stdp_sign_and_magnitude():
    w = np.array([0.0, 0.25, 0.5, 1.0, 0.0, 0.25, 0.5, 1.0], np.float32)
    pre = np.array([1, 1, 1, 1, 0, 0, 0, 0], bool)
    d = stdp.stdp_update(w, pre, 0.1, 0.075) - w
    np.testing.assert_allclose(d, [0, 0.01875, 0.025, 0, 0, -0.0140625, -0.01875, 0], atol=1e-7)


def test_init_replaces_out_of_range_by_mean():
    w = stdp.init_weights((10000,), 0.8, 0.2, np.random.default_rng(1))
    assert ((w > 0) & (w < 1)).all()
    assert (w == np.float32(0.8)).sum() > 1000       # ~16% of draws replaced, not clipped
    w1 = stdp.init_weights((5, 5, 2, 30), rng=np.random.default_rng(0))
    assert abs(stdp.convergence(w1) - 0.160) < 0.001   # initial C_l ~ 0.160


def test_convergence_and_td_values():
    assert stdp.convergence(np.full(8, 0.5)) == 0.25
    assert stdp.convergence(np.array([0.0, 1.0])) == 0.0
    assert stdp.temporal_difference(np.zeros(3), np.array([0.3, 0.0, 0.0])) == pytest.approx(0.03)


# ---------------------------------------------------------------- S7 learning-rate schedule
def test_lr_schedule_image_boundaries_main_script():
    traj = [stdp.a_plus_for_image(i, 0.004, 500, 0.15) for i in (0, 499, 500, 1000, 1500, 2000, 2500, 3000, 9000)]
    assert traj == [0.004, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.15, 0.15]
    assert stdp.a_plus_for_image(10 ** 6, 0.004, 500, None) > 1     # no cap
    assert stdp.a_plus_for_image(10 ** 6, 0.004, None, 0.15) == 0.004


def test_original_step_schedule_doubles_at_step_zero_and_every_12n_minus_1():
    n = 500
    assert [stdp.original_step_doublings(g, n) for g in (0, 1, 5998, 5999, 6000, 11998)] == [1, 1, 1, 2, 2, 3]


# ---------------------------------------------------------------- P1-P4 pooling
def _conv_spikes(rng, n=4, T=6, h=9, c=3):
    v = np.cumsum(rng.random((n, T, h, h, c)).astype(np.float32) * 4, axis=1)
    s = inhibition.inhibit_sequence(v, 10.0)
    return np.where(s, v, 0).astype(np.float32)


def test_pool_modes(rng):
    x = _conv_spikes(rng)
    tr = pooling.spike_pool(x, 10.0, "transient")
    fs = pooling.spike_pool(x, 10.0, "first_spike")
    ac = pooling.spike_pool(x, 10.0, "accumulate")
    assert tr.sum(axis=1).max() <= 4 and tr.sum(axis=1).max() >= 2
    assert fs.sum(axis=1).max() == 1
    assert (tr.any(axis=1) == fs.any(axis=1)).all()              # binarised transient == first_spike
    first = np.argmax(fs, axis=1)
    steps = np.arange(x.shape[1])[None, :, None, None, None]
    expect = fs.any(axis=1)[:, None] & (steps >= first[:, None])  # fires every step from t0 on
    assert (ac == expect).all()
    assert tr.shape[2:4] == (4, 4)                                # 9 -> 4: last row/col dropped


def test_pool_lateral_inhibition(rng):
    x = _conv_spikes(rng)
    p = pooling.spike_pool(x, 10.0, "transient", lateral_inhibition=True)
    assert p.sum(axis=(1, 4)).max() == 1                          # one spike per pool position
    pooled = pooling.max_pool(x)
    t = np.argmax(p.any(-1), axis=1)
    for n, i, j in zip(*np.nonzero(p.any(axis=(1, 4)))):
        m = np.argmax(p[n, t[n, i, j], i, j])
        assert pooled[n, t[n, i, j], i, j, m] == pooled[n, t[n, i, j], i, j].max()


@pytest.mark.parametrize("conv_inhibition", [True, False])
def test_feature_pass_matches_numpy(rng, conv_inhibition):
    """The event-driven inference pass equals the dense numpy mechanisms, for every pool mode."""
    s = rng.random((3, 5, 9, 9, 2)) < 0.15
    w = rng.random((3, 3, 2, 4)).astype(np.float32)
    th = np.full(3, 4.0, np.float32)
    ev = feature_pass.conv_events(spike_events.from_dense(s), w, th, inhibition=conv_inhibition)
    x = np.zeros((3, 5, 7, 7, 4), np.float32)
    img = np.repeat(np.arange(3), np.diff(ev.ptr))
    x.reshape(3, 5, -1)[img, ev.t, ev.idx] = ev.val
    v = integrate_fire.cumulative_potentials(s, w)
    ref = np.where(inhibition.inhibit_sequence(v, th, inhibition=conv_inhibition), v, 0)
    assert (ref > 0).sum() > 20
    np.testing.assert_allclose(x, ref, rtol=1e-5)
    for mode in pooling.POOL_MODES:
        for inh in (False, True):
            p = spike_events.to_dense(feature_pass.pool_events(ev, th, mode, inh))
            assert (p == pooling.spike_pool(ref, th, mode, inh)).all(), (mode, inh)


def test_feature_vectors_map_major_and_values():
    s = np.zeros((1, 4, 2, 3, 2), bool)
    s[0, 1, 1, 2, 1] = s[0, 3, 1, 2, 1] = True
    assert np.flatnonzero(pooling.pool_features(s, "binary")[0]).tolist() == [1 * 6 + 1 * 3 + 2]
    assert pooling.pool_features(s, "counts")[0, 11] == 2
    assert pooling.pool_features(s, "first_spike_times")[0, 11] == 1
    assert pooling.pool_features(s, "first_spike_times")[0, 0] == -1


@pytest.mark.parametrize("values", pooling.FEATURE_VALUES)
def test_event_features_equal_dense_features(rng, values):
    """spike_events.to_features (what Network.transform uses) equals the dense P3-P4 form."""
    s = rng.random((4, 6, 3, 5, 7)) < 0.2
    np.testing.assert_array_equal(spike_events.to_features(spike_events.from_dense(s), values),
                                  pooling.pool_features(s, values))
