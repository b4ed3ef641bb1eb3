"""Inference batches are bounded by activation memory: large spiking models on clips get smaller
batches (same predictions), small readouts keep the requested batch."""

import keras
import numpy as np

from spykeflow.classifier import Classifier
from spykeflow.training import memory_bounded_batch


def test_batch_bounded_by_the_largest_layer_output():
    big = keras.Sequential([keras.Input((10, 28, 28, 48)), keras.layers.Flatten(),
                            keras.layers.Dense(2)])
    per_clip = 10 * 28 * 28 * 48 * 4
    assert memory_bounded_batch(big, 1024) == (256 * 2**20) // per_clip
    assert memory_bounded_batch(big, 1024, budget_bytes=1) == 1
    small = keras.Sequential([keras.Input((100,)), keras.layers.Dense(10)])
    assert memory_bounded_batch(small, 1024) == 1024
    assert memory_bounded_batch(object(), 64) == 64        # no layer shapes: unchanged


def test_classifier_predictions_do_not_depend_on_the_bound(monkeypatch):
    rng = np.random.default_rng(0)
    x = rng.random((12, 3, 8, 8), dtype=np.float32)
    y = np.arange(12) % 2
    clf = Classifier("sts_convsnn", backend_params={"filters": [2], "switch_epoch": 0},
                     epochs=1, batch_size=4, seed=0, progress=False).fit(x, y)
    full = clf.decision_scores(x)
    seen = []
    import spykeflow.training as T

    original = T.memory_bounded_batch
    monkeypatch.setattr(T, "memory_bounded_batch",
                        lambda m, b: seen.append(b)
                        or original(m, b, budget_bytes=3 * 8 * 8 * 2 * 4 * 5))
    np.testing.assert_allclose(clf.decision_scores(x), full, atol=1e-6)
    assert seen == [1024]
