"""ConvSNN through the public facade: Classifier(backend="convsnn", ...) plumbing.

(Learning itself is tested in test_convsnn.py; this checks fit/predict/quantized/save/load.)"""

import numpy as np

from spykeflow import Classifier


def test_classifier_convsnn_fit_predict_save_load(tmp_path, rng):
    n = 24
    x = rng.random((n, 3, 6, 6, 1)) < 0.5
    y = np.arange(n) % 2
    clf = Classifier("convsnn", backend_params={"filters": [2], "kernel_sizes": [3],
                                                "hidden": [8], "bits": 3, "threshold": 0.2,
                                                "readout": "membrane_mean"},
                     epochs=1, batch_size=8, validation_split=0.0, progress=False, seed=0)
    assert clf.fit(x, y) is clf
    pq = clf.decision_scores(x)
    pf = clf.decision_scores(x, quantized=False)
    assert pq.shape == pf.shape == (n, 2)
    assert np.all(np.isfinite(pq)) and not np.allclose(pq, pf)  # 3-bit weights change logits
    clf.save(tmp_path / "clf")
    loaded = Classifier.load(tmp_path / "clf")
    np.testing.assert_allclose(loaded.decision_scores(x), pq, rtol=1e-5, atol=1e-6)
    assert set(np.unique(loaded.predict(x))) <= {0, 1}
