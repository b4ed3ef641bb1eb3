"""Latency codes (docs/original/encoding.md#latency-bins): rank-order equal-count bins and the
1/x alternative."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from spykeflow.functional import latency


def _maps(seed, m=6, h=9, w=11, density=0.3, ties=False):
    rng = np.random.default_rng(seed)
    v = rng.random((m, h, w)) * 100
    if ties:
        v = np.round(v / 10) * 10  # many exact ties
    v[rng.random((m, h, w)) > density] = 0
    return v


def test_rank_hand_case():
    v = np.array([[5.0, 0.0, 3.0], [2.0, 9.0, 1.0]])
    # n = 5 in 2 bins: ranks 1, 2 -> bin 0; ranks 3, 4, 5 -> bin 1 ((2r - 1) div 5).
    assert latency.rank_order_bins(v, n_bins=2).tolist() == [[0, -1, 1], [1, 0, 1]]
    # n = 10 in 10 bins: one spike per bin, strongest first.
    v = np.arange(10.0, 0, -1).reshape(2, 5)
    assert latency.rank_order_bins(v).ravel().tolist() == list(range(10))


def test_rank_ties_broken_by_ascending_flat_index():
    v = np.array([[4.0, 1.0], [1.0, 0.0]])
    assert latency.rank_order_bins(v, n_bins=3).tolist() == [[0, 1], [2, -1]]
    v = np.full((1, 3, 3), 7.0)
    assert latency.rank_order_bins(v, n_bins=9)[0].ravel().tolist() == list(range(9))


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("ties", [False, True])
def test_rank_properties(seed, ties):
    v = _maps(seed, ties=ties)
    b = latency.rank_order_bins(v, n_bins=10)
    assert b.shape == v.shape and b.dtype == np.int8
    for m in range(v.shape[0]):
        vals, bins = v[m].ravel(), b[m].ravel()
        spiking = vals > 0
        assert ((bins >= 0) == spiking).all(), "exactly the positive pixels spike"
        n = int(spiking.sum())
        counts = np.bincount(bins[spiking], minlength=10)
        assert set(counts.tolist()) <= {n // 10, -(-n // 10)}, f"unequal bins {counts} for n={n}"
        # Stronger responses spike no later; among ties the lower flat index no later.
        idx = np.flatnonzero(spiking)
        for i in idx:
            stronger = (vals[idx] > vals[i]) | ((vals[idx] == vals[i]) & (idx < i))
            assert (bins[idx][stronger] <= bins[i]).all(), "a stronger response spiked later"


def test_rank_matches_the_reference_formula():
    v = _maps(11, m=4, h=27, w=27, density=0.25, ties=True)
    b = latency.rank_order_bins(v)
    for m in range(4):
        flat = v[m].ravel()
        order = np.argsort(-flat, kind="stable")  # by value descending, ties by index
        n = int((flat > 0).sum())
        expected = np.full(flat.size, -1)
        for r, i in enumerate(order[:n], start=1):
            expected[i] = int(np.ceil(10 * r / n)) - 1
        assert b[m].ravel().tolist() == expected.tolist()


def test_rank_edge_cases():
    assert (latency.rank_order_bins(np.zeros((2, 3, 3))) == -1).all()
    # Non-positive values never spike. A lone spike has rank 1 of n = 1: bin ceil(10/1) - 1 = 9
    # (with n < n_bins the formula spreads the spikes towards the late bins, as the original).
    assert latency.rank_order_bins(np.array([[0.0, -3.0, 2.0]])).tolist() == [[-1, -1, 9]]
    assert latency.rank_order_bins(np.array([[3.0, 2.0]])).tolist() == [[4, 9]]
    assert latency.rank_order_bins(np.array([[1.0, 2.0]]), n_bins=200).dtype == np.int32
    with pytest.raises(ValueError, match="shape"):
        latency.rank_order_bins(np.ones(4))


@settings(max_examples=40, deadline=None)
@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=3, max_dims=3, max_side=8),
                  elements=st.sampled_from([0.0, 0.0, 1.0, 2.5, 2.5, 7.0, 100.0])),
       st.integers(1, 12))
def test_rank_properties_hypothesis(v, n_bins):
    b = latency.rank_order_bins(v, n_bins=n_bins)
    flat_v, flat_b = v.reshape(len(v), -1), b.reshape(len(v), -1)
    for vals, bins in zip(flat_v, flat_b):
        n = int((vals > 0).sum())
        assert ((bins >= 0) == (vals > 0)).all()
        if n:
            counts = np.bincount(bins[bins >= 0], minlength=n_bins)
            assert len(counts) == n_bins
            assert counts.min() >= n // n_bins and counts.max() <= -(-n // n_bins)


def test_inverse_latency_hand_case_and_monotone():
    assert latency.inverse_latency(np.array([4.0, 0.0, 0.5])).tolist() == [0.25, np.inf, 2.0]
    # tau = 1, 0.5, 0.25 -> 4 (tau - 0.25) / 0.75 = 4 (clipped to 3), 1.33, 0.
    bins = latency.inverse_latency_bins(np.array([[1.0, 2.0, 4.0, 0.0]]), 4)
    assert bins.tolist() == [[3, 1, 0, -1]]
    v = _maps(3, density=0.5)
    b = latency.inverse_latency_bins(v, 10)
    for m in range(len(v)):
        vals, bins = v[m].ravel(), b[m].ravel()
        s = vals > 0
        assert ((bins >= 0) == s).all()
        order = np.argsort(-vals[s])
        assert (np.diff(bins[s][order]) >= 0).all(), "1/x latency is monotone"
        assert bins[s].min() == 0 and bins[s].max() == 9


def test_inverse_single_spike_and_equal_values_go_to_bin_0():
    assert latency.inverse_latency_bins(np.array([[0.0, 5.0]]), 10).tolist() == [[-1, 0]]
    assert latency.inverse_latency_bins(np.array([[5.0, 5.0]]), 10).tolist() == [[0, 0]]


def test_latency_bins_dispatch():
    v = _maps(1)
    np.testing.assert_array_equal(latency.latency_bins(v, "rank"), latency.rank_order_bins(v))
    np.testing.assert_array_equal(latency.latency_bins(v, "inverse", 5),
                                  latency.inverse_latency_bins(v, 5))
    with pytest.raises(ValueError, match="latency"):
        latency.latency_bins(v, "poisson")
