"""The compiled training loop (spykeflow.stdp.engine, running the kernels of
spykeflow.functional) against the test oracle's step-by-step numpy training
(tests/network/oracle.py): identical winners (map, row, col, step) and weights equal to float32
rounding after training on random small inputs, for every option."""

import numpy as np
import pytest

from spykeflow import STDPConv
from spykeflow.functional import homeostasis, stdp
from spykeflow.functional.spike_events import from_dense
from spykeflow.stdp import engine

from .oracle import reference_train

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


#: option of the oracle -> STDPConv argument
_AS_LAYER = {"threshold": "threshold", "window": "inhibition_window", "strict": "strict_threshold",
             "inhibition": "lateral_inhibition", "competition": "competition",
             "homeostasis": "homeostasis", "block": "homeostasis_block",
             "factor": "homeostasis_factor", "decay": "homeostasis_decay",
             "count_first_image": "homeostasis_count_first_image", "stdp_update": "stdp_update",
             "a_plus": "a_plus", "lr_double_every": "lr_double_every", "a_plus_max": "a_plus_max",
             "lr_schedule": "lr_schedule"}


def _settings(layer, shape=(H, W, CIN), time_steps=T):
    return engine.settings_for(layer, shape, time_steps)


def _train(settings, w0, spk, thetas, a_plus):
    n, n_maps = len(spk), w0.shape[-1]
    return engine.train_chunk(settings, w0.reshape(-1, n_maps), from_dense(spk),
                              np.asarray(thetas, np.float32), np.arange(n), np.arange(n),
                              np.zeros(n_maps, np.float32), a_plus, 0)


def _compiled(spk, w0, opts):
    kk = dict(BASE)
    kk.update(opts)
    layer = STDPConv(C, K, **{_AS_LAYER[k]: v for k, v in kk.items()})
    out = _train(_settings(layer), w0, spk, np.full(N, kk["threshold"]), kk["a_plus"])
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
    {"competition": "per_map_max", "inhibition": False, "stdp_update": "end_of_image"},
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


def _one_neuron(**options):
    """A 3x3 kernel on a 3x3 input: one output neuron."""
    base = dict(threshold=1.0, inhibition_window=3, lr_double_every=None)
    return STDPConv(1, 3, **{**base, **options})


@pytest.mark.parametrize("count_first, expected", [
    (True, [1, 1, 0, 0, 0, 1, 1, 0, 0, 0]),    # clean: >= 2 counted wins excludes the map
    (False, [1, 1, 1, 0, 0, 1, 1, 1, 0, 0]),   # quirk: wins in a block's first image not counted
])
def test_homeostasis_counting(count_first, expected):
    spk = _single_map_case()
    layer = _one_neuron(homeostasis_block=5, homeostasis_factor=3.0,
                        homeostasis_count_first_image=count_first)
    out = _train(_settings(layer, (3, 3, 1), 2), np.full((3, 3, 1, 1), 0.5, np.float32), spk,
                 np.ones(10), 0.004)
    assert (out["win_pos"][:, 0] >= 0).astype(int).tolist() == expected
    # every win is an LTP step (all pre fired at step 0); every excluded image decays once
    w = np.full((1, 1), 0.5, np.float32)
    for won in expected:
        if won:
            stdp.stdp_update(w, 0, np.ones(1, bool), 0.004, 0.003)
        else:
            homeostasis.suppress_overactive(np.full(1, 9, np.float32), 1.0, np.float32(0.003), w,
                                            np.empty(0, np.int32), np.empty(0, np.float32), 0)
    np.testing.assert_allclose(out["weights"][0, 0], w[0, 0], atol=1e-7)


def test_same_step_pre_is_causal_and_late_pre_depressed():
    # input (0,0) spikes at step 0 with the rest; input (2,2) spikes at step 1, after the win
    spk = np.zeros((1, 2, 3, 3, 1), bool)
    spk[0, 0] = True
    spk[0, 0, 2, 2] = False
    spk[0, 1, 2, 2] = True
    layer = _one_neuron(homeostasis=False, a_plus=0.1)
    out = _train(_settings(layer, (3, 3, 1), 2), np.full((3, 3, 1, 1), 0.5, np.float32), spk,
                 np.ones(1), 0.1)
    assert out["win_step"][0, 0] == 0
    d = out["weights"][:, 0] - 0.5
    np.testing.assert_allclose(d[:8], 0.1 * 0.25, atol=1e-7)      # pre at the same step: LTP
    np.testing.assert_allclose(d[8], -0.075 * 0.25, atol=1e-7)    # pre after post: LTD


def test_original_steps_lr_state():
    spk = np.zeros((3, 12, 3, 3, 1), bool)
    layer = _one_neuron(homeostasis=False, lr_schedule="original_steps", lr_double_every=1,
                        a_plus=0.002)
    out = _train(_settings(layer, (3, 3, 1), 12), np.full((3, 3, 1, 1), 0.5, np.float32), spk,
                 np.ones(3), 0.002)
    # doublings after g = 0, 11, 22, 33 (36 steps): 0.002 -> 0.032
    assert out["a_state"] == pytest.approx(0.032)


def test_editing_the_rule_changes_what_fit_does(monkeypatch):
    """The engine runs the rule of spykeflow/functional/stdp.py, not a copy: replacing it
    changes the trained weights (here: a rule that never changes a weight)."""
    import numba as nb

    from spykeflow import Network, SpikePool
    from spykeflow.stdp import engine as eng

    @nb.njit
    def frozen_update(w, m, pre, a_plus, a_minus):
        return None

    rng = np.random.default_rng(0)
    x = rng.random((6, 4, 8, 8, 2)) < 0.2
    layers = [STDPConv(3, 3, threshold=2.0, inhibition_window=3, homeostasis=False,
                       a_plus=0.1), SpikePool(2)]
    trained = Network(layers, progress=False).fit(x)
    monkeypatch.setattr(eng, "stdp_update", frozen_update)
    monkeypatch.setattr(eng, "_train", nb.njit(eng._train.py_func))   # recompile with it
    frozen = Network(layers, progress=False).fit(x)
    assert sum(trained.history_["layers"][0]["winners_per_image"]) > 0
    assert not np.array_equal(trained.weights_[0], frozen.weights_[0])
    np.testing.assert_array_equal(frozen.weights_[0], frozen.history_["layers"][0]["snapshots"][0])
