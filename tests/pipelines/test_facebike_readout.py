"""The facebike-specific parts of ``main/pipelines.py``: several feature sets per run (float
max-potential features next to binary spikes) and the SVM whose C is chosen by
cross-validation on the training split only."""

from __future__ import annotations

import pathlib
import sys

import numpy as np
import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "main"))

import pipelines  # noqa: E402  (main/pipelines.py)

from spykeflow import Network  # noqa: E402
from spykeflow.layers.spike_pool import SpikePool  # noqa: E402
from spykeflow.layers.stdp_conv import STDPConv  # noqa: E402


@pytest.fixture(scope="module")
def tiny_net():
    rng = np.random.default_rng(0)
    x = rng.random((6, 4, 12, 12, 2)) < 0.15
    net = Network([STDPConv(3, 3, threshold=2.0, inhibition_window=3, padding=1, homeostasis=False),
                   SpikePool(2),
                   STDPConv(2, 3, threshold=1.0, inhibition_window=3, padding=1, homeostasis=False)],
                  seed=0, progress=False).fit(x)
    return net, x


def test_feature_sets_default_is_the_networks_own_binary_features(tiny_net):
    net, x = tiny_net
    assert pipelines._feature_sets({"features": None}) is None
    f = pipelines._transform_features(net, x, None)
    assert f.dtype == np.uint8 and np.array_equal(f, net.transform(x))


def test_binary_and_max_potential_are_concatenated_as_float(tiny_net):
    net, x = tiny_net
    sets = pipelines._feature_sets({"features": [{"layer": 1, "values": "binary"},
                                                 {"layer": 2, "values": "max_potential"}]})
    assert sets == [(1, "binary"), (2, "max_potential")]
    f = pipelines._transform_features(net, x, sets)
    assert f.dtype == np.float32 and f.shape == (6, 6 * 6 * 3 + 2)
    net.set_params(feature_layer=2, feature_values="max_potential")
    expected = net.transform(x)
    net.set_params(feature_layer=-1, feature_values="binary")
    np.testing.assert_array_equal(f[:, -2:], expected)
    # the Network's own feature settings are left as they were
    assert net.feature_layer == -1 and net.feature_values == "binary"
    only_binary = pipelines._transform_features(net, x, [(1, "binary"), (2, "binary")])
    assert only_binary.dtype == np.uint8


def _config(**kw):
    return {"seed": 0, "svm_cv": 3, "svm_c_grid": [1e-3, 1e-1, 10.0], "standardise": True, **kw}


def test_svm_cross_validation_picks_c_on_the_training_split_only():
    rng = np.random.default_rng(1)
    y = np.repeat([0, 1], 30)
    x = rng.normal(size=(60, 5)) * [1, 1, 1, 100, 0.01] + np.outer(y, [2, 0, 0, 0, 0])
    clf, scaler, summary = pipelines._svm_by_cross_validation(_config(), x, y)
    assert summary["best_C"] in (1e-3, 1e-1, 10.0)
    assert summary["folds"] == 3 and set(summary["mean_accuracy"]) == {"0.001", "0.1", "10.0"}
    best = max(summary["mean_accuracy"].values())
    assert summary["mean_accuracy"][str(summary["best_C"])] == best
    np.testing.assert_allclose(scaler["mean"], x.mean(0))
    np.testing.assert_allclose(scaler["scale"], x.std(0))
    assert clf.backend_params["C"] == summary["best_C"]
    assert np.mean(clf.predict((x - scaler["mean"]) / scaler["scale"]) == y) > 0.9


def test_svm_cross_validation_ties_go_to_the_smaller_c_and_constant_features_are_kept():
    y = np.repeat([0, 1], 12)
    x = np.stack([y * 1.0, np.ones(24)], axis=1)  # separable by any C; a constant column
    _, scaler, summary = pipelines._svm_by_cross_validation(_config(), x, y)
    assert summary["best_C"] == 1e-3
    assert scaler["scale"][1] == 1.0
    _, scaler, summary = pipelines._svm_by_cross_validation(_config(standardise=False), x, y)
    assert np.all(scaler["mean"] == 0) and np.all(scaler["scale"] == 1) and not summary["standardise"]
