"""The compiled training loop against the slow per-step reference (tests/network/reference.py):
identical winners (map, row, col, step) and weights equal to float32 rounding after training on
random small inputs, for every option."""

import numpy as np
import pytest

from spykeflow.functional import stdp, stdp_loop
from spykeflow.functional.spike_events import from_dense

from .reference import reference_train

N, T, H, W, CIN, C, K = 12, 5, 10, 10, 2, 6, 3
BASE = dict(threshold=4.0, window=3, block=3, factor=3.0, decay=0.003, a_plus=0.05,
            lr_double_every=4, a_plus_max=0.15)


def _data(seed=0, multi=False):
    rng = np.random.default_rng(seed)
    first = rng.integers(0, T, size=(N, H, W, CIN))
    first[rng.random(first.shape) < 0.5] = -1
    spk = first[:, None] == np.arange(T)[None, :, None, None, None]
    if multi:   # Conv2-like input: some neurons spike several times
        spk |= rng.random(spk.shape) < 0.05
    w0 = stdp.init_weights((K, K, CIN, C), 0.8, 0.05, rng)
    return spk, w0


def _compiled(spk, w0, opts):
    kk = dict(BASE)
    kk.update(opts)
    cfg = stdp_loop.LoopConfig(
        (H, W, CIN), (K, K), C, T, kk["window"], kk.get("strict", False),
        kk.get("inhibition", True), kk.get("competition", "greedy_all"),
        kk.get("homeostasis", True), kk["block"], kk["block"] / kk["factor"], kk["decay"],
        kk.get("count_first_image", False), kk.get("stdp_update") == "end_of_image",
        kk.get("lr_schedule") == "original_steps", T * kk["lr_double_every"] - 1, 0.15, 0.75)
    a = np.array([stdp.a_plus_for_image(i, kk["a_plus"], kk["lr_double_every"], 0.15)
                  for i in range(N)], np.float32)
    out = stdp_loop.train_chunk(cfg, w0.reshape(-1, C), from_dense(spk),
                                np.full(N, kk["threshold"], np.float32), a,
                                np.arange(N, dtype=np.int32), np.zeros(C, np.float32),
                                kk["a_plus"], 0)
    wo = W - K + 1
    log = [sorted((m, int(out["win_pos"][i, m]) // wo, int(out["win_pos"][i, m]) % wo,
                   int(out["win_step"][i, m])) for m in range(C) if out["win_pos"][i, m] >= 0)
           for i in range(N)]
    return out["weights"].reshape(K, K, CIN, C), log


OPTIONS = [
    {},
    {"competition": "per_map_max"},
    {"count_first_image": True},
    {"homeostasis": False},
    {"inhibition": False},
    {"strict": True},
    {"stdp_update": "end_of_image"},
    {"lr_schedule": "original_steps", "lr_double_every": 2},
]


@pytest.mark.parametrize("opts", OPTIONS, ids=lambda o: ",".join(o) or "default")
def test_loop_equals_reference(opts):
    spk, w0 = _data()
    kw = dict(BASE)
    kw.update(opts)
    w_ref, log_ref = reference_train(spk, w0, **kw)
    w, log = _compiled(spk, w0, opts)
    assert sum(map(len, log_ref)) > 20                    # learning actually happened
    assert log == log_ref
    np.testing.assert_allclose(w, w_ref, atol=2e-6, rtol=0)


def test_multi_spike_input_equals_reference():
    spk, w0 = _data(seed=3, multi=True)
    w_ref, log_ref = reference_train(spk, w0, **BASE)
    w, log = _compiled(spk, w0, {})
    assert log == log_ref
    np.testing.assert_allclose(w, w_ref, atol=2e-6, rtol=0)


def _single_map_case(T_steps=2):
    """One 3x3 input patch spiking at step 0 -> a 1x1x1 conv neuron that wins every image."""
    spk = np.zeros((10, T_steps, 3, 3, 1), bool)
    spk[:, 0] = True
    return spk


@pytest.mark.parametrize("count_first, expected", [
    (True, [1, 1, 0, 0, 0, 1, 1, 0, 0, 0]),    # clean: >= 2 counted wins excludes the map
    (False, [1, 1, 1, 0, 0, 1, 1, 1, 0, 0]),   # quirk: wins in a block's first image not counted
])
def test_homeostasis_counting(count_first, expected):
    spk = _single_map_case()
    cfg = stdp_loop.LoopConfig((3, 3, 1), (3, 3), 1, 2, 3, False, True, "greedy_all", True, 5,
                               5 / 3.0, 0.003, count_first, False, False, 1, 0.15, 0.75)
    w0 = np.full((9, 1), 0.5, np.float32)
    out = stdp_loop.train_chunk(cfg, w0, from_dense(spk), np.full(10, 1.0, np.float32),
                                np.full(10, 0.004, np.float32), np.arange(10, dtype=np.int32),
                                np.zeros(1, np.float32), 0.004, 0)
    assert (out["win_pos"][:, 0] >= 0).astype(int).tolist() == expected
    # every win is an LTP step (all pre fired at step 0); every excluded image decays once
    w = np.float32(0.5)
    for won in expected:
        w = stdp.stdp_update(w, True, 0.004, 0.003) if won else stdp.homeostasis_decay(w, 0.003)
    np.testing.assert_allclose(out["weights"][0, 0], w, atol=1e-7)


def test_same_step_pre_is_causal_and_late_pre_depressed():
    # input (0,0) spikes at step 0 with the rest; input (2,2) spikes at step 1, after the win
    spk = np.zeros((1, 2, 3, 3, 1), bool)
    spk[0, 0] = True
    spk[0, 0, 2, 2] = False
    spk[0, 1, 2, 2] = True
    cfg = stdp_loop.LoopConfig((3, 3, 1), (3, 3), 1, 2, 3, False, True, "greedy_all", False, 5,
                               1.0, 0.003, False, False, False, 1, 0.15, 0.75)
    w0 = np.full((9, 1), 0.5, np.float32)
    out = stdp_loop.train_chunk(cfg, w0, from_dense(spk), np.full(1, 1.0, np.float32),
                                np.full(1, 0.1, np.float32), np.zeros(1, np.int32),
                                np.zeros(1, np.float32), 0.1, 0)
    assert out["win_step"][0, 0] == 0
    d = out["weights"][:, 0] - 0.5
    np.testing.assert_allclose(d[:8], 0.1 * 0.25, atol=1e-7)      # pre at the same step: LTP
    np.testing.assert_allclose(d[8], -0.075 * 0.25, atol=1e-7)    # pre after post: LTD


def test_original_steps_lr_state():
    spk = np.zeros((3, 12, 3, 3, 1), bool)
    cfg = stdp_loop.LoopConfig((3, 3, 1), (3, 3), 1, 12, 3, False, True, "greedy_all", False, 5,
                               1.0, 0.003, False, False, True, 12 * 1 - 1, 0.15, 0.75)
    out = stdp_loop.train_chunk(cfg, np.full((9, 1), 0.5, np.float32), from_dense(spk),
                                np.ones(3, np.float32), np.ones(3, np.float32),
                                np.arange(3, dtype=np.int32), np.zeros(1, np.float32), 0.002, 0)
    # doublings after g = 0, 11, 22, 33 (36 steps): 0.002 -> 0.032
    assert out["a_state"] == pytest.approx(0.032)
