"""Network: estimator contract, determinism, persistence, resume after a crash, validators."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.pipeline import Pipeline
from sklearn.svm import LinearSVC

from spykeflow import Network, SpikePool, STDPConv
from spykeflow._validation import NotFittedError
from spykeflow.monitors import ConvergenceStop

from . import oracle

SHAPE = (5, 12, 12, 2)


def _spikes(n=24, seed=0):
    rng = np.random.default_rng(seed)
    first = rng.integers(0, 4, size=(n,) + SHAPE[1:])
    first[rng.random(first.shape) < 0.7] = -1
    return first[:, None] == np.arange(SHAPE[0])[None, :, None, None, None]


def _layers(**kw):
    conv = dict(threshold=3.0, inhibition_window=3, a_plus=0.05, lr_double_every=8,
                homeostasis_block=3, snapshot_every=4)
    conv.update(kw)
    return [STDPConv(6, 3, **conv), SpikePool(2)]


def _net(**kw):
    params = dict(progress=False, batch_size=8, checkpoint_every=4)
    params.update(kw)
    layers = params.pop("layers", None) or _layers()
    return Network(layers, **params)


@pytest.fixture(scope="module")
def fitted():
    x = _spikes()
    return _net().fit(x), x


def test_fit_transform_and_history(fitted):
    net, x = fitted
    f = net.transform(x)
    assert f.shape == (24, 6 * 5 * 5) and f.dtype == np.uint8 and set(np.unique(f)) <= {0, 1}
    h = net.history_["layers"][0]
    assert net.history_["layers"][1] is None
    assert h["snapshot_images"] == [0, 4, 8, 12, 16, 20, 24]
    assert len(h["temporal_difference"]) == len(h["convergence"]) - 1
    assert sum(h["updates_per_map"]) == sum(h["winners_per_image"]) > 0
    assert max(h["updates_per_map"]) <= 24                     # one update per map per image
    assert len(h["spikes_per_image"]) == 24
    win = np.concatenate(h["winners"])
    assert win.shape[1] == 5 and len(win) == sum(h["winners_per_image"])
    assert net.weights_[0].shape == (3, 3, 2, 6) and net.weights_[1] is None
    np.testing.assert_allclose(h["convergence"][-1],
                               np.mean(net.weights_[0] * (1 - net.weights_[0])), rtol=1e-6)


def test_feature_values_and_spikes_at(fitted):
    net, x = fitted
    s = net.spikes_at(x, layer=1)
    assert s.shape == (24, 5, 5, 5, 6) and s.dtype == bool
    assert s.sum(axis=1).max() <= 1                            # last pool: first_spike mode
    conv = net.spikes_at(x, layer=0)
    assert conv.sum(axis=(1, 4)).max() <= 1                    # lateral inhibition
    n2 = clone(net).set_params(feature_values="counts")
    n2.__dict__.update({k: v for k, v in net.__dict__.items() if k.endswith("_")})
    np.testing.assert_array_equal(n2.transform(x) > 0, net.transform(x) > 0)
    n2.set_params(feature_values="first_spike_times")
    t = n2.transform(x)
    assert t.min() >= -1 and t.max() < 5
    batches = list(net.iter_spikes_at(x, layer=1, batch_size=10))
    assert [b for b, _ in batches] == [0, 10, 20]
    np.testing.assert_array_equal(np.concatenate([s_ for _, s_ in batches]), s)


def test_same_seed_same_weights_other_seed_differs(fitted):
    net, x = fitted
    again = _net().fit(x)
    np.testing.assert_array_equal(again.weights_[0], net.weights_[0])
    np.testing.assert_array_equal(again.transform(x), net.transform(x))
    other = _net(seed=1).fit(x)
    assert not np.array_equal(other.weights_[0], net.weights_[0])


def test_chunking_does_not_change_results(fitted):
    net, x = fitted
    other = _net(batch_size=5).fit(x)
    np.testing.assert_array_equal(other.weights_[0], net.weights_[0])


def test_pipeline_with_linear_svc(fitted):
    _, x = fitted
    y = np.arange(len(x)) % 3
    pipe = Pipeline([("net", _net()), ("svm", LinearSVC())]).fit(x, y)
    assert pipe.predict(x).shape == (len(x),)
    assert clone(_net()).get_params()["batch_size"] == 8


def test_transform_before_fit_raises():
    with pytest.raises(NotFittedError, match="not fitted"):
        _net().transform(_spikes(2))


def test_save_load_round_trip(fitted, tmp_path):
    net, x = fitted
    path = net.save(tmp_path / "net")
    back = Network.load(path)
    np.testing.assert_array_equal(back.weights_[0], net.weights_[0])
    np.testing.assert_array_equal(back.transform(x), net.transform(x))
    assert back.history_["layers"][0]["convergence"] == net.history_["layers"][0]["convergence"]
    assert back.layers_[0].get_config() == net.layers_[0].get_config()
    assert sorted(p.name for p in path.iterdir()) == ["arrays.npz", "manifest.json"]
    # a changed or partly copied folder is detected
    (path / "arrays.npz").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="does not match"):
        Network.load(path)


class Crash(RuntimeError):
    pass


def test_resume_after_crash_gives_same_weights(tmp_path):
    x = _spikes(30)
    layers = lambda: _layers() + [STDPConv(4, 2, threshold=1.0, inhibition_window=3,  # noqa: E731
                                           snapshot_every=4, n_images=20), SpikePool(2)]
    full = _net(layers=layers()).fit(x)

    def crash_at(k, layer):
        def monitor(net, event):
            if event["layer"] == layer and event["images_done"] >= k:
                raise Crash(f"simulated kill at image {k}")
        return monitor

    for layer, k in ((0, 10), (2, 6)):
        ck = tmp_path / f"ck{layer}"
        net = _net(layers=layers(), checkpoint_path=ck, monitors=[crash_at(k, layer)])
        with pytest.raises(Crash):
            net.fit(x)
        assert (ck / "state" / "manifest.json").exists()
        resumed = _net(layers=layers(), checkpoint_path=ck).fit(x, resume=True)
        for a, b in zip(resumed.weights_, full.weights_):
            if a is not None:
                np.testing.assert_array_equal(a, b)
        for i in (0, 2):
            assert (resumed.history_["layers"][i]["winners_per_image"]
                    == full.history_["layers"][i]["winners_per_image"])
            assert (resumed.history_["layers"][i]["convergence"]
                    == full.history_["layers"][i]["convergence"])


def test_resume_rejects_other_parameters(tmp_path):
    x = _spikes(8)
    _net(checkpoint_path=tmp_path).fit(x)
    with pytest.raises(ValueError, match="other parameters"):
        _net(checkpoint_path=tmp_path, seed=5).fit(x, resume=True)
    with pytest.raises(ValueError, match="checkpoint_path"):
        _net().fit(x, resume=True)


def test_given_weights_take_effect():
    w = np.full((3, 3, 2, 6), 0.3, np.float32)
    x = _spikes(6)
    net = _net(layers=[STDPConv(6, 3, threshold=3.0, inhibition_window=3, weights=w, n_images=0),
                       SpikePool(2)]).fit(x)
    np.testing.assert_array_equal(net.weights_[0], w)
    trained = _net(layers=[STDPConv(6, 3, threshold=3.0, inhibition_window=3, weights=w),
                           SpikePool(2)]).fit(x)
    np.testing.assert_array_equal(trained.history_["layers"][0]["snapshots"][0], w)


def test_n_images_and_epochs():
    x = _spikes(12)
    net = _net(layers=_layers(n_images=5, epochs=2)).fit(x)
    h = net.history_["layers"][0]
    assert len(h["winners_per_image"]) == 10 and h["images_trained"] == 10
    assert h["snapshot_images"] == [0, 4, 9]                   # schedule restarts each epoch


def test_monitors_stop_and_record():
    x = _spikes(16)
    events = []
    net = _net(monitors=[lambda network, event: events.append(event), ConvergenceStop(1.0)]).fit(x)
    assert net.history_["layers"][0]["stopped_early"]
    assert len(net.history_["layers"][0]["winners_per_image"]) < 16
    assert events[0]["layer"] == 0 and "convergence" in events[0]
    assert net.history_["layers"][0]["images_trained"] == 4     # the first chunk ends at a snapshot
    with pytest.raises(TypeError, match="callables"):
        _net(monitors=["stop"]).fit(x)


def test_spike_statistics_per_class(fitted):
    net, x = fitted
    y = np.array([2, 0, 1] * 8)
    st = net.spike_statistics(x, y)
    assert st["classes"].tolist() == [0, 1, 2]
    assert st["spikes_per_map_per_class"].shape == (3, 6)
    assert st["spikes_per_map_per_class"].sum() == st["spikes_per_image"].sum()
    np.testing.assert_allclose(st["spikes_per_map_per_class_normalised"],
                               st["spikes_per_map_per_class"] / 8)


def test_presets():
    net = Network.preset("mnist_conv1")
    c = net.layers[0]
    assert (c.filters, c.kernel_size, c.neuron.threshold, c.competition.window, c.rule.a_plus,
            c.schedule.double_every, c.homeostasis.factor, c.training.n_images) == (
                30, 5, 15.0, 11, 0.004, 500, 3.0, 6000)
    assert Network.preset("paper_snippet").layers[0].homeostasis.factor == 4.0
    c2 = Network.preset("mnist_conv2").layers[2]
    assert (c2.filters, c2.competition.window, c2.homeostasis.block, c2.homeostasis.decay) == (
        200, 3, 3, 0.0003)
    assert Network.preset("net5").layers[1].lateral_inhibition
    with pytest.raises(ValueError, match="mnist_conv1"):
        Network.preset("nope")


# ---------------------------------------------------------------- validators
@pytest.mark.parametrize("bad, exc, match", [
    (np.full((2,) + SHAPE, 2, np.uint8), ValueError, "binary"),
    (np.zeros((2, 5, 12, 12), bool), ValueError, "rank 5"),
    (np.zeros((0,) + SHAPE, bool), ValueError, "at least one sample"),
    (np.zeros((2,) + SHAPE, object), TypeError, "object"),
])
def test_fit_rejects_bad_spikes(bad, exc, match):
    with pytest.raises(exc, match=match):
        _net().fit(bad)


def test_transform_rejects_other_shape(fitted):
    net, _ = fitted
    with pytest.raises(ValueError, match="as in fit"):
        net.transform(np.zeros((1, 5, 10, 12, 2), bool))


def test_kernel_larger_than_input():
    with pytest.raises(ValueError, match="Kernel larger"):
        _net(layers=[STDPConv(4, 13, threshold=1.0, inhibition_window=3)]).fit(_spikes(2))


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(filters=0), ValueError, "filters >= 1"),
    (dict(inhibition_window=4), ValueError, "odd"),
    (dict(competition="best"), ValueError, "greedy_all"),
    (dict(threshold=0), ValueError, "threshold"),
    (dict(threshold="15"), TypeError, "threshold"),
    (dict(stdp_update="batch"), ValueError, "per_step"),
    (dict(lr_schedule="original_steps", lr_double_every=None), ValueError, "lr_inc_rate"),
    (dict(weights=np.ones((3, 3, 2, 5))), ValueError, "shape"),
    (dict(weights=np.full((5, 5, 2, 4), 1.5)), ValueError, r"\[0, 1\]"),
])
def test_conv_validators(kwargs, exc, match):
    base = dict(filters=4, kernel_size=5, threshold=15.0)
    base.update(kwargs)
    with pytest.raises(exc, match=match):
        STDPConv(**base)


def test_network_validators():
    x = _spikes(2)
    with pytest.raises(ValueError, match="feature_values"):
        _net(feature_values="dense").fit(x)
    with pytest.raises(TypeError, match="STDPConv or SpikePool"):
        _net(layers=[STDPConv(2, 3, threshold=1.0, inhibition_window=3), "pool"]).fit(x)
    with pytest.raises(ValueError, match="first layer"):
        _net(layers=[SpikePool(2)]).fit(x)
    with pytest.raises(ValueError, match="mode"):
        SpikePool(2, mode="sum")
    with pytest.raises(ValueError, match="C_in=2"):
        _net(layers=[STDPConv(2, 3, threshold=1.0, inhibition_window=3,
                              weights=np.full((3, 3, 1, 2), 0.5))]).fit(x)


def test_original_steps_snapshot_schedule():
    # T=5, S=2: copies after per-epoch steps 0, 9, 18, ... -> at the end of samples 0, 1, 3, ...
    x = _spikes(12)
    net = _net(layers=_layers(snapshot_every=2, snapshot_schedule="original_steps")).fit(x)
    assert net.history_["layers"][0]["snapshot_images"] == [1, 2, 4, 6, 8, 10, 11]


def test_threshold_crossings_before_inhibition():
    """Two maps cross at the same position and step: both are crossings, only the argmax map
    spikes after lateral inhibition; a pooling layer index is refused."""
    x = np.zeros((1, 2, 2, 2, 1), bool)
    x[0, 1] = True                                      # all four inputs at step 1
    w = np.zeros((2, 2, 1, 2), np.float32)
    w[..., 0], w[..., 1] = 0.5, 0.6                      # potentials 2.0 and 2.4 >= 1.5
    net = Network([STDPConv(2, 2, threshold=1.5, inhibition_window=1, n_images=0, weights=w),
                   SpikePool(1)], progress=False).fit(x)
    cross = net.threshold_crossings(x, 0)
    assert cross.shape == (1, 2, 1, 1, 2)
    assert cross[0, 1, 0, 0].tolist() == [True, True] and not cross[0, 0].any()
    assert net.spikes_at(x, 0)[0, 1, 0, 0].tolist() == [False, True]
    with pytest.raises(ValueError, match="conv layer"):
        net.threshold_crossings(x, 1)


def test_padding_equals_valid_layers_on_zero_padded_input():
    """padding=p adds silent border neurons: a network with padded conv and pool layers gives
    the weights, winners and features of the same valid network trained on zero-padded input
    (for the pool, padding its input by the equivalent margin)."""
    rng = np.random.default_rng(4)
    x = rng.random((12, 4, 8, 8, 2)) < 0.15
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1), (0, 0)))
    conv = dict(filters=3, kernel_size=3, threshold=2.0, inhibition_window=3, a_plus=0.05)
    padded = Network([STDPConv(padding=1, **conv), SpikePool(2)], progress=False).fit(x)
    valid = Network([STDPConv(**conv), SpikePool(2)], progress=False).fit(xp)
    np.testing.assert_array_equal(padded.weights_[0], valid.weights_[0])
    assert padded.spikes_at(x, 0).shape == (12, 4, 8, 8, 3)           # "same" size
    np.testing.assert_array_equal(padded.transform(x), valid.transform(xp))
    pool_pad = Network([STDPConv(padding=1, **conv), SpikePool(3, stride=2, padding=1)],
                       progress=False).fit(x)
    assert pool_pad.spikes_at(x).shape[2:4] == (4, 4)                 # (8 + 2 - 3)//2 + 1
    conv_out = np.pad(pool_pad.spikes_at(x, 0), ((0, 0), (0, 0), (1, 1), (1, 1), (0, 0)))
    ref = conv_out.any(axis=1)
    expect = np.stack([[ref[:, 2 * i:2 * i + 3, 2 * j:2 * j + 3].any(axis=(1, 2)) for j in range(4)]
                       for i in range(4)]).transpose(2, 0, 1, 3)
    np.testing.assert_array_equal(pool_pad.spikes_at(x).any(axis=1), expect)


def test_max_potential_features_are_global_max_of_final_potentials():
    rng = np.random.default_rng(5)
    x = rng.random((6, 4, 9, 9, 2)) < 0.2
    net = Network([STDPConv(3, 3, threshold=3.0, inhibition_window=3, padding=1)],
                  feature_values="max_potential", progress=False).fit(x)
    f = net.transform(x)
    assert f.shape == (6, 3) and f.dtype == np.float32
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1), (0, 0)))
    v = oracle.cumulative_potentials(xp, net.weights_[0])[:, -1]      # (N, H, W, C)
    np.testing.assert_allclose(f, v.max(axis=(1, 2)), rtol=1e-5)
    bad = Network([STDPConv(3, 3, threshold=3.0, inhibition_window=3), SpikePool(2)],
                  feature_values="max_potential", progress=False).fit(x)
    with pytest.raises(ValueError, match="conv layer"):
        bad.transform(x)


def test_conv_options_are_fixed_and_replace_makes_a_copy():
    conv = STDPConv(6, 3, threshold=3.0, inhibition_window=3)
    with pytest.raises(AttributeError, match=r"replace\(n_images=...\).*training.n_images"):
        conv.n_images = 5
    with pytest.raises(AttributeError, match="homeostasis.enabled"):
        conv.homeostasis = False                       # a flat option named like its group
    other = conv.replace(n_images=5, threshold=4.0)
    assert (other.training.n_images, other.neuron.threshold) == (5, 4.0)
    assert (conv.training.n_images, conv.neuron.threshold) == (None, 3.0)
    assert STDPConv.from_config(other.get_config()).get_config() == other.get_config()
    with pytest.raises(TypeError, match="Received: nope"):
        conv.replace(nope=1)
    w = np.full((3, 3, 2, 6), 0.5, np.float32)
    assert conv.replace(weights=w).replace(epochs=2).weights is not None


def test_flat_constructor_covers_every_group_field_once():
    """Every STDPConv keyword (but the geometry and weights) is one field of one group."""
    import dataclasses
    import inspect

    from spykeflow.stdp.params import FLAT_OPTIONS, GROUPS

    names = set(inspect.signature(STDPConv).parameters) - {"filters", "kernel_size", "padding",
                                                           "weights"}
    assert names == set(FLAT_OPTIONS)
    fields = {(g, f.name) for g, cls in GROUPS.items() for f in dataclasses.fields(cls)}
    assert sorted(FLAT_OPTIONS.values()) == sorted(fields)
    conv = STDPConv(4, 3, threshold=2.5, homeostasis_block=7)
    assert (conv.neuron.threshold, conv.homeostasis.block) == (2.5, 7)
