"""Classifier(backend="qcfs") end to end: fit, ANN / SNN predictions, save/load."""

import numpy as np
import pytest

from spykeflow import Classifier


@pytest.mark.slow
def test_classifier_qcfs_fit_predict_time_steps_and_reload(tmp_path):
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 20)
    x = rng.uniform(0, 0.3, (40, 8, 8, 1)).astype("float32")
    x[y == 1, 2:6, 2:6, 0] += 0.7  # class 1: a bright square
    # restore_best=False: the best training-accuracy epoch comes after a handful of steps, when
    # BatchNorm's moving statistics have hardly moved from their initial values, so whether its
    # inference-mode accuracy passed depended on the backend's random initialisation.
    clf = Classifier(backend="qcfs",
                     backend_params={"filters": (4,), "hidden": 0, "levels": 4, "threshold": 1.0},
                     epochs=8, batch_size=8, learning_rate=1e-2, validation_split=0.0,
                     progress=False, seed=0, restore_best=False)
    clf.fit(x, y)
    ann = clf.decision_scores(x)
    snn = clf.decision_scores(x, time_steps=64)
    assert snn.shape == ann.shape == (40, 2)
    assert (clf.predict(x) == y).mean() >= 0.9
    assert (clf.predict(x, time_steps=64) == clf.predict(x)).mean() >= 0.9
    clf.save(tmp_path / "clf")
    again = Classifier.load(tmp_path / "clf")
    np.testing.assert_allclose(again.decision_scores(x, time_steps=64), snn, rtol=1e-5, atol=1e-5)
