"""Hand-built cases for each mechanism kernel that Network runs (spykeflow/functional), and the
event-driven inference pass against the dense test oracle (tests/network/oracle.py)."""

import numpy as np
import pytest
from scipy.signal import correlate

from spykeflow.functional import (
    competition,
    convergence,
    feature_pass,
    homeostasis,
    inhibition,
    integrate_fire,
    lr_schedule,
    pooling,
    spike_events,
    stdp,
)
from spykeflow.stdp.params import Competition

from . import oracle


# ---------------------------------------------------------------- adapters to the kernels
def _fire(potentials_before, potentials_after, fired, threshold=15.0, strict=False,
          inhibition_on=True):
    """One step of fire_step on dense (H, W, C) potentials; returns (spikes, potentials)."""
    h, w, c = potentials_after.shape
    v = np.asarray(potentials_before, np.float32).reshape(h * w, c).copy()
    inc = (np.asarray(potentials_after, np.float32).reshape(h * w, c) - v).astype(np.float32)
    touched = np.arange(h * w, dtype=np.int32)
    s_pos, s_map = np.empty(h * w * c, np.int32), np.empty(h * w * c, np.int32)
    s_val = np.empty(h * w * c, np.float32)
    ns = inhibition.fire_step(touched, h * w, v, inc, fired, np.float32(threshold), strict,
                              inhibition_on, s_pos, s_map, s_val)
    spikes = np.zeros(h * w * c, bool)
    spikes[s_pos[:ns] * c + s_map[:ns]] = True
    return spikes.reshape(h, w, c), v.reshape(h, w, c)


def _fire_sequence(v, threshold, inhibition_on=True):
    """fire_step over the steps of cumulative potentials v (T, H, W, C)."""
    T, h, w, c = v.shape
    fired = np.zeros(h * w if inhibition_on else h * w * c, bool)
    prev, out = np.zeros((h, w, c), np.float32), []
    for t in range(T):
        s, prev = _fire(prev, v[t], fired, threshold, inhibition_on=inhibition_on)
        out.append(s)
    return np.stack(out)


def _compete(k, window, mode="greedy_all"):
    """Winners [(map, row, col), ...] in the order chosen, for dense candidate values K."""
    h, w, c = k.shape
    pos, maps = np.nonzero(k.reshape(h * w, c) > 0)
    vals = k.reshape(h * w, c)[pos, maps].astype(np.float32)
    ns = len(pos)
    pos, maps = pos.astype(np.int32), maps.astype(np.int32)
    wp = np.empty(c, np.int32)
    if mode == "greedy_all":
        competition.greedy_all(pos, maps, vals, ns, c, w, window // 2, False,
                               np.empty(ns, np.float32), np.empty(ns, np.int32), wp)
    else:
        competition.per_map_max(pos, maps, vals, ns, c, w, window // 2, np.empty(c, np.float32),
                                np.empty(c, np.int32), wp)
    won = [(m, int(wp[m])) for m in range(c) if wp[m] >= 0]
    won.sort(key=lambda mp: (-k.reshape(h * w, c)[mp[1], mp[0]], mp[1], mp[0]))
    return [(m, p // w, p % w) for m, p in won]


def _k(entries, shape=(7, 7, 3)):
    k = np.zeros(shape)
    for (r, c, m), v in entries.items():
        k[r, c, m] = v
    return k


# ---------------------------------------------------------------- integrate-and-fire
def test_if_is_cumulative_without_leak_or_reset():
    v = np.zeros((1, 1, 1), np.float32)
    fired = np.zeros(1, bool)
    history = []
    for cur in (10.0, 6.0, 0.0, 0.0):
        s, v = _fire(v, v + cur, fired)
        history.append((bool(s.any()), float(v[0, 0, 0])))
    # crosses at step 1 and keeps its potential: no reset, no leak; one spike per sample
    assert history == [(False, 10.0), (True, 16.0), (False, 16.0), (False, 16.0)]


def test_threshold_is_inclusive_unless_strict():
    v = np.full((1, 1, 1), 15.0, np.float32)
    assert _fire(np.zeros_like(v), v, np.zeros(1, bool))[0].any()
    assert not _fire(np.zeros_like(v), v, np.zeros(1, bool), strict=True)[0].any()


def test_integrate_step_equals_valid_correlation(rng):
    """The event-driven currents summed over steps equal a dense valid cross-correlation."""
    s = rng.random((3, 7, 6, 2)) < 0.3
    w = rng.random((3, 3, 2, 4)).astype(np.float32)
    ev = spike_events.from_dense(s[None])
    wo, ho = 6 - 3 + 1, 7 - 3 + 1
    v = np.zeros((ho * wo, 4), np.float32)
    inc = np.zeros_like(v)
    stamp, touched = np.full(ho * wo, -1, np.int64), np.empty(ho * wo, np.int32)
    e = 0
    while e < len(ev.t):
        e, nt = integrate_fire.integrate_step(e, len(ev.t), ev.t, ev.idx, w.reshape(-1, 4), 6, 2,
                                              3, 3, ho, wo, stamp, e, touched, inc)
        v[touched[:nt]] += inc[touched[:nt]]
    dense = np.stack([correlate(s.sum(0)[..., k].astype(np.float32), w[..., k, m], "valid")
                      for m in range(4) for k in range(2)]).reshape(4, 2, ho, wo).sum(1)
    np.testing.assert_allclose(v.reshape(ho, wo, 4), dense.transpose(1, 2, 0), rtol=1e-5)
    np.testing.assert_allclose(v.reshape(ho, wo, 4),
                               oracle.cumulative_potentials(s[None], w)[0, -1], rtol=1e-5)


def test_threshold_jitter_is_seeded_and_bounded():
    a = integrate_fire.sample_thresholds(15.0, 0.1, 3, 0, 1000, train=True)
    b = integrate_fire.sample_thresholds(15.0, 0.1, 3, 0, 1000, train=True)
    assert (a == b).all() and a.min() >= 13.5 and a.max() <= 16.5 and a.std() > 0.5
    assert (integrate_fire.sample_thresholds(15.0, 0.1, 3, 0, 10, start=990, train=True)
            == a[990:]).all()                                       # one stream per layer
    assert not (integrate_fire.sample_thresholds(15.0, 0.1, 4, 0, 10, train=True) == a[:10]).all()


# ---------------------------------------------------------------- lateral inhibition
def test_inhibition_one_spike_per_position_in_argmax_map_ties_lowest():
    v = np.array([[[15.0, 18.0, 16.0], [20.0, 20.0, 3.0]],
                  [[1.0, 2.0, 3.0], [17.0, 17.0, 17.0]]], np.float32)     # (2, 2, 3)
    fired = np.zeros(4, bool)
    s, v_now = _fire(np.zeros_like(v), v, fired)
    assert s.sum(axis=-1).tolist() == [[1, 1], [0, 1]]
    assert np.argmax(s, axis=-1)[s.any(-1)].tolist() == [1, 0, 0]        # argmax; ties -> lowest
    assert fired.reshape(2, 2).tolist() == [[True, True], [False, True]]
    # a fired position is silent for the rest of the sample, even with higher potentials
    s2, _ = _fire(v_now, v + 100, fired)
    assert s2.sum() == 1 and s2[1, 0].any()


def test_argmax_map_wins_even_if_another_map_crossed_first_at_this_step():
    # both maps above threshold at the first crossing step: the higher potential wins
    v = np.zeros((3, 1, 1, 2), np.float32)
    v[1, 0, 0] = [15.0, 30.0]
    v[2, 0, 0] = [40.0, 30.0]
    assert np.argwhere(_fire_sequence(v, 15.0)).tolist() == [[1, 0, 0, 1]]


@pytest.mark.parametrize("inhibition_on", [True, False])
def test_fire_step_equals_oracle_sequence(rng, inhibition_on):
    v = np.cumsum(rng.random((6, 5, 5, 4)).astype(np.float32) * 5, axis=0)
    live = _fire_sequence(v, 12.0, inhibition_on)
    assert (live == oracle.inhibit_sequence(v, 12.0, inhibition=inhibition_on)).all()
    fired = np.zeros((5, 5), bool)
    spiked = np.zeros((5, 5, 4), bool)
    for t in range(6):            # the oracle's own step-wise form agrees with its sequence form
        if inhibition_on:
            s, fired = oracle.lateral_inhibition(v[t], v[t] >= 12, fired)
        else:
            s, spiked = oracle.first_crossing(v[t] >= 12, spiked)
        assert (live[t] == s).all()
    if inhibition_on:
        assert live.sum(axis=(0, 3)).max() <= 1
    else:
        assert live.sum(axis=0).max() <= 1          # first crossings only


# ---------------------------------------------------------------- competition
def test_competition_window_blocks_all_maps_and_one_winner_per_map():
    k = _k({(3, 3, 0): 30, (4, 4, 1): 29, (3, 6, 2): 28, (0, 0, 0): 27})
    w = _compete(k, window=3)
    # (4,4) map 1 is inside the 3x3 window of (3,3); (0,0) is map 0's second neuron
    assert w == [(0, 3, 3), (2, 3, 6)]
    allowed = np.ones((49, 3), bool)
    wp = np.full(3, -1, np.int32)
    for m, r, c in w:
        wp[m] = r * 7 + c
    competition.block_winners(allowed, wp, 7, 1)
    allowed = allowed.reshape(7, 7, 3)
    assert not allowed[2:5, 2:5].any() and not allowed[..., 0].any() and not allowed[..., 2].any()
    assert allowed[0, 0, 1] and allowed[6, 0, 1]


def test_greedy_all_differs_from_per_map_max():
    # map 0's best neuron (25) is inhibited by map 1's (30); map 0 still wins elsewhere with 20
    k = _k({(3, 3, 1): 30, (3, 4, 0): 25, (0, 0, 0): 20})
    assert _compete(k, 3, "greedy_all") == [(1, 3, 3), (0, 0, 0)]
    assert _compete(k, 3, "per_map_max") == [(1, 3, 3)]


def test_competition_ties_first_row_major():
    k = _k({(2, 5, 0): 20, (4, 1, 1): 20, (2, 3, 2): 20})
    assert _compete(k, 1, "greedy_all")[0] == (2, 2, 3)
    assert _compete(k, 1, "per_map_max")[0] == (2, 2, 3)
    # equal value at the same position in two maps: lowest map
    k2 = _k({(1, 1, 2): 20, (1, 1, 1): 20})
    assert _compete(k2, 1) == [(1, 1, 1)]
    assert _compete(k2, 1, "per_map_max") == [(1, 1, 1)]


def test_candidates_exclude_blocked_neurons():
    allowed = np.ones((4, 2), bool)
    allowed[1, 0] = False
    s_val = np.array([16.0, 17.0, 18.0], np.float32)
    left = competition.select_candidates(allowed, np.array([0, 1, 1], np.int32),
                                         np.array([0, 0, 1], np.int32), s_val, 3)
    assert left and s_val.tolist() == [16.0, 0.0, 18.0]


def test_competition_rejects_unknown_mode():
    with pytest.raises(ValueError, match="greedy_all"):
        Competition(mode="best")


# ---------------------------------------------------------------- STDP rule, homeostasis, init
def test_stdp_sign_and_magnitude():
    w = np.array([0.0, 0.25, 0.5, 1.0, 0.0, 0.25, 0.5, 1.0], np.float32)[:, None]
    pre = np.array([1, 1, 1, 1, 0, 0, 0, 0], bool)
    after = w.copy()
    stdp.stdp_update(after, 0, pre, 0.1, 0.075)
    np.testing.assert_allclose((after - w)[:, 0], [0, 0.01875, 0.025, 0, 0, -0.0140625,
                                                   -0.01875, 0], atol=1e-7)


def test_causal_pre_reads_the_winners_receptive_field():
    seen = np.zeros((4, 5, 2), bool)
    seen[1, 2, 1] = seen[3, 4, 0] = True
    pre = np.empty(3 * 3 * 2, bool)
    stdp.causal_pre(seen.ravel(), 1, 2, 5, 2, 3, 3, pre)     # winner at (1, 2), 3x3 kernel
    assert np.flatnonzero(pre).tolist() == [1, (2 * 3 + 2) * 2 + 0]


def test_homeostasis_excludes_and_decays_overactive_maps():
    w = np.full((3, 2), 0.5, np.float32)
    s_val = np.array([20.0, 18.0, 17.0], np.float32)
    homeostasis.suppress_overactive(np.array([2.0, 1.0], np.float32), 5 / 3.0, np.float32(0.003),
                                    w, np.array([0, 1, 0], np.int32), s_val, 3)
    assert s_val.tolist() == [0.0, 18.0, 0.0]                    # map 0: 2 > 5/3 wins
    np.testing.assert_allclose(w[:, 0], 0.5 - 0.003 * 0.25, atol=1e-8)
    assert (w[:, 1] == 0.5).all()
    counts = np.zeros(2, np.float32)
    homeostasis.count_wins(counts, np.array([-1, 4], np.int32))
    assert counts.tolist() == [0.0, 1.0]


def test_init_replaces_out_of_range_by_mean():
    w = stdp.init_weights((10000,), 0.8, 0.2, np.random.default_rng(1))
    assert ((w > 0) & (w < 1)).all()
    assert (w == np.float32(0.8)).sum() > 1000       # ~16% of draws replaced, not clipped
    w1 = stdp.init_weights((5, 5, 2, 30), rng=np.random.default_rng(0))
    assert abs(convergence.convergence(w1) - 0.160) < 0.001   # initial C_l ~ 0.160


def test_convergence_and_td_values():
    assert convergence.convergence(np.full(8, 0.5)) == 0.25
    assert convergence.convergence(np.array([0.0, 1.0])) == 0.0
    assert convergence.temporal_difference(np.array([np.zeros(3), [0.3, 0.0, 0.0]]))[0] == \
        pytest.approx(0.03)
    s = np.stack([np.full((2, 2, 1, 1), 0.5), np.full((2, 2, 1, 1), 0.9)])
    np.testing.assert_allclose(convergence.convergence_curve(s), [0.25, 0.09])
    np.testing.assert_allclose(convergence.temporal_difference(s), [0.16])


# ---------------------------------------------------------------- learning-rate schedule
def test_lr_schedule_image_boundaries_main_script():
    traj = [lr_schedule.a_plus_for_image(i, 0.004, 500, 0.15)
            for i in (0, 499, 500, 1000, 1500, 2000, 2500, 3000, 9000)]
    assert traj == [np.float32(a) for a in (0.004, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128,
                                            0.15, 0.15)]
    assert lr_schedule.a_plus_for_image(10 ** 6, 0.004, 500, np.inf) > 1     # no cap
    assert lr_schedule.a_plus_for_image(10 ** 6, 0.004, 0, 0.15) == np.float32(0.004)


def test_original_step_schedule_doubles_at_step_zero_and_every_12n_minus_1():
    a, doublings = np.float32(1e-9), []
    for g in range(12000):
        b = lr_schedule.after_step(a, g, 12 * 500 - 1, np.inf)
        if b != a:
            doublings.append(g)
        a = b
    assert doublings == [0, 5999, 11998]


# ---------------------------------------------------------------- pooling and features
def _valued_events(x):
    """SpikeEvents of dense conv outputs x (N, T, H, W, C) valued by their potential."""
    n, T = x.shape[:2]
    img, t, idx = np.nonzero(x.reshape(n, T, -1))
    ptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(img, minlength=n), out=ptr[1:])
    return spike_events.SpikeEvents(ptr, t.astype(np.int32), idx.astype(np.int32),
                                    x.reshape(n, T, -1)[img, t, idx].astype(np.float32),
                                    tuple(x.shape[1:]))


def _conv_spikes(rng, n=4, T=6, h=9, c=3):
    v = np.cumsum(rng.random((n, T, h, h, c)).astype(np.float32) * 4, axis=1)
    s = oracle.inhibit_sequence(v, 10.0)
    return np.where(s, v, 0).astype(np.float32)


def _pool(x, mode, lateral=False):
    th = np.full(len(x), 10.0, np.float32)
    return spike_events.to_dense(pooling.pool_events(_valued_events(x), th, mode, lateral))


def test_pool_modes(rng):
    x = _conv_spikes(rng)
    tr, fs, ac = (_pool(x, m) for m in ("transient", "first_spike", "accumulate"))
    assert tr.sum(axis=1).max() <= 4 and tr.sum(axis=1).max() >= 2
    assert fs.sum(axis=1).max() == 1
    assert (tr.any(axis=1) == fs.any(axis=1)).all()          # binarised transient == first_spike
    first = np.argmax(fs, axis=1)
    steps = np.arange(x.shape[1])[None, :, None, None, None]
    expect = fs.any(axis=1)[:, None] & (steps >= first[:, None])  # fires every step from t0 on
    assert (ac == expect).all()
    assert tr.shape[2:4] == (4, 4)                                # 9 -> 4: last row/col dropped


def test_pool_lateral_inhibition(rng):
    x = _conv_spikes(rng)
    p = _pool(x, "transient", lateral=True)
    assert p.sum(axis=(1, 4)).max() == 1                          # one spike per pool position
    pooled = oracle.max_pool(x)
    t = np.argmax(p.any(-1), axis=1)
    for n, i, j in zip(*np.nonzero(p.any(axis=(1, 4)))):
        m = np.argmax(p[n, t[n, i, j], i, j])
        assert pooled[n, t[n, i, j], i, j, m] == pooled[n, t[n, i, j], i, j].max()


@pytest.mark.parametrize("conv_inhibition", [True, False])
def test_feature_pass_matches_oracle(rng, conv_inhibition):
    """The event-driven inference pass equals the dense oracle, for every pool mode."""
    s = rng.random((3, 5, 9, 9, 2)) < 0.15
    w = rng.random((3, 3, 2, 4)).astype(np.float32)
    th = np.full(3, 4.0, np.float32)
    ev = feature_pass.conv_events(spike_events.from_dense(s), w, th, inhibition=conv_inhibition)
    x = np.zeros((3, 5, 7, 7, 4), np.float32)
    img = np.repeat(np.arange(3), np.diff(ev.ptr))
    x.reshape(3, 5, -1)[img, ev.t, ev.idx] = ev.val
    v = oracle.cumulative_potentials(s, w)
    ref = np.where(oracle.inhibit_sequence(v, th, inhibition=conv_inhibition), v, 0)
    assert (ref > 0).sum() > 20
    np.testing.assert_allclose(x, ref, rtol=1e-5)
    for mode in pooling.POOL_MODES:
        for inh in (False, True):
            p = spike_events.to_dense(pooling.pool_events(ev, th, mode, inh))
            assert (p == oracle.spike_pool(ref, th, mode, inh)).all(), (mode, inh)


def test_feature_vectors_map_major_and_values():
    s = np.zeros((1, 4, 2, 3, 2), bool)
    s[0, 1, 1, 2, 1] = s[0, 3, 1, 2, 1] = True
    ev = spike_events.from_dense(s)
    assert np.flatnonzero(spike_events.to_features(ev, "binary")[0]).tolist() == [1 * 6 + 1 * 3 + 2]
    assert spike_events.to_features(ev, "counts")[0, 11] == 2
    assert spike_events.to_features(ev, "first_spike_times")[0, 11] == 1
    assert spike_events.to_features(ev, "first_spike_times")[0, 0] == -1


@pytest.mark.parametrize("values", pooling.FEATURE_VALUES)
def test_event_features_equal_oracle_features(rng, values):
    """spike_events.to_features (what Network.transform uses) equals the oracle's dense form."""
    s = rng.random((4, 6, 3, 5, 7)) < 0.2
    np.testing.assert_array_equal(spike_events.to_features(spike_events.from_dense(s), values),
                                  oracle.pool_features(s, values))
