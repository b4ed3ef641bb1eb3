"""The facebike-specific parts of the STDP image pipeline: several feature sets per run (float
max-potential features next to binary spikes) and the SVM whose C is chosen by
cross-validation on the training split only."""

from __future__ import annotations

import pathlib
import sys
from types import SimpleNamespace

import numpy as np
import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "main"))

import readout  # noqa: E402
import stdp_configs  # noqa: E402
import stdp_images  # noqa: E402

from spykeflow import Network, SpikePool, STDPConv  # noqa: E402


@pytest.fixture(scope="module")
def tiny_net():
    rng = np.random.default_rng(0)
    x = rng.random((6, 4, 12, 12, 2)) < 0.15
    net = Network([STDPConv(3, kernel_size=3, threshold=2.0, inhibition_window=3,
                            padding=1, homeostasis=False),
                   SpikePool(size=2),
                   STDPConv(2, kernel_size=3, threshold=1.0, inhibition_window=3,
                            padding=1, homeostasis=False)],
                  seed=0, progress=False).fit(x)
    return net, x


def test_feature_sets_default_is_the_networks_own_binary_features(tiny_net):
    net, x = tiny_net
    assert stdp_configs.StdpConfig().features is None
    f = stdp_images.transform(net, x, None)
    assert f.dtype == np.uint8 and np.array_equal(f, net.transform(x))


def test_binary_and_max_potential_are_concatenated_as_float(tiny_net):
    net, x = tiny_net
    sets = ((1, "binary"), (2, "max_potential"))
    f = stdp_images.transform(net, x, sets)
    assert f.dtype == np.float32 and f.shape == (6, 6 * 6 * 3 + 2)
    np.testing.assert_array_equal(f[:, :-2], net.transform(x, layers=[1]))
    np.testing.assert_array_equal(f[:, -2:], net.transform(x, layers=[(2, "max_potential")]))
    # the Network's own feature settings are left as they were
    assert net.feature_layer == -1 and net.feature_values == "binary"
    only_binary = stdp_images.transform(net, x, ((1, "binary"), (2, "binary")))
    assert only_binary.dtype == np.uint8


def test_facebike_reads_pool1_pool2_spikes_and_conv3_max_potentials():
    config = stdp_configs.FacebikeConfig()
    assert config.features == ((1, "binary"), (3, "binary"), (4, "max_potential"))
    layers = stdp_images.network_layers(config)
    assert [type(layer).__name__ for layer in layers] == ["STDPConv", "SpikePool", "STDPConv",
                                                          "SpikePool", "STDPConv"]
    assert [layers[i].filters for i in (0, 2, 4)] == [4, 20, 10]
    assert [layers[i].training.n_images for i in (0, 2, 4)] == [474, 474, 474]


def _config(**kw):
    return SimpleNamespace(**{"seed": 0, "svm_cv": 3, "svm_c_grid": (1e-3, 1e-1, 10.0),
                              "standardise": True, "svm_max_iter": None, **kw})


def test_svm_cross_validation_picks_c_on_the_training_split_only():
    rng = np.random.default_rng(1)
    y = np.repeat([0, 1], 30)
    x = rng.normal(size=(60, 5)) * [1, 1, 1, 100, 0.01] + np.outer(y, [2, 0, 0, 0, 0])
    clf, scaler, summary = readout.svm_by_cross_validation(_config(), x, y)
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
    _, scaler, summary = readout.svm_by_cross_validation(_config(), x, y)
    assert summary["best_C"] == 1e-3
    assert scaler["scale"][1] == 1.0
    _, scaler, summary = readout.svm_by_cross_validation(_config(standardise=False), x, y)
    assert np.all(scaler["mean"] == 0) and np.all(scaler["scale"] == 1)
    assert not summary["standardise"]
    # the grid's order does not matter: ties still go to the smaller C
    _, _, summary = readout.svm_by_cross_validation(_config(svm_c_grid=(10.0, 1e-1, 1e-3)), x, y)
    assert summary["best_C"] == 1e-3


def _hand_written_cross_validation(x, y, grid, folds, seed, max_iter=20000):
    """Test oracle: the loop the pipeline used before GridSearchCV (stratified seeded folds,
    each fold standardised by its own training part, ties to the smaller C)."""
    from sklearn.model_selection import StratifiedKFold
    from sklearn.svm import LinearSVC

    scores = {c: [] for c in grid}
    for fit, val in StratifiedKFold(folds, shuffle=True, random_state=seed).split(x, y):
        mean, scale = x[fit].mean(0), x[fit].std(0)
        scale = np.where(scale > 0, scale, 1.0)
        for c in grid:
            svc = LinearSVC(C=c, max_iter=max_iter, random_state=seed)
            svc.fit((x[fit] - mean) / scale, y[fit])
            scores[c].append(float(np.mean(svc.predict((x[val] - mean) / scale) == y[val])))
    means = {c: float(np.mean(v)) for c, v in scores.items()}
    return max(grid, key=lambda c: (means[c], -c)), means


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_grid_search_chooses_the_c_of_the_hand_written_loop(seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 80)
    x = np.concatenate([rng.random((80, 30)) < 0.2 + 0.1 * y[:, None],        # binary spikes
                        rng.gamma(2.0, 3.0, (80, 4)) + y[:, None]], axis=1)    # potentials
    x = x.astype(np.float32)  # the features as the pipeline stores them
    grid = (1e-4, 1e-3, 1e-2, 1e-1, 1.0)
    _, _, summary = readout.svm_by_cross_validation(
        _config(seed=seed, svm_cv=5, svm_c_grid=grid), x, y)
    best, means = _hand_written_cross_validation(x.astype(np.float64), y, grid, 5, seed)
    assert summary["best_C"] == best
    assert summary["mean_accuracy"] == pytest.approx({str(c): m for c, m in means.items()})
