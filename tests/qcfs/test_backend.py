"""QCFS backend: model shape, ANN vs SNN predictions, classic ReLU conversion, validation."""

import keras
import numpy as np
import pytest

from spykeflow import backends
from spykeflow._validation import NotFittedError
from spykeflow.backends.qcfs import QCFSBackend


def test_registered_and_config_round_trip():
    b = backends.get("qcfs", filters=(4,), levels=4)
    assert isinstance(b, QCFSBackend)
    assert QCFSBackend(**b.get_config()).get_config() == b.get_config()


@pytest.mark.parametrize("kw, match", [
    ({"filters": ()}, "filters"), ({"levels": 0}, "levels"), ({"activation": "tanh"}, "activation"),
    ({"dropout": 1.0}, "dropout"), ({"percentile": 0}, "percentile"),
])
def test_invalid_params(kw, match):
    with pytest.raises(ValueError, match=match):
        QCFSBackend(**kw)


def test_build_predict_ann_and_snn():
    b = QCFSBackend(filters=(4, 8), hidden=8, levels=4, threshold=1.0)
    model = b.build_model((8, 8, 1), 3, seed=0)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds.count("QCFS") == 5 and kinds.count("AveragePooling2D") == 2
    assert "MaxPooling2D" not in kinds
    x = np.random.default_rng(0).uniform(0, 1, (6, 8, 8, 1)).astype("float32")
    ann = b.predict_logits(model, x, batch_size=6)
    np.testing.assert_allclose(ann, keras.ops.convert_to_numpy(model(x)), rtol=1e-5, atol=1e-6)
    snn = b.predict_logits(model, x, batch_size=6, time_steps=8)
    assert snn.shape == (6, 3)
    curve = b.predict_curve(model, x, 8, [4, 8])
    np.testing.assert_allclose(curve[1], snn, rtol=1e-6, atol=1e-6)
    # same seed -> same weights
    again = b.build_model((8, 8, 1), 3, seed=0)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(again(x)),
                                  keras.ops.convert_to_numpy(model(x)))
    with pytest.raises(ValueError, match="images"):
        b.build_model((8, 8), 3, seed=0)


def test_relu_variant_needs_calibration_then_converts():
    b = QCFSBackend(filters=(4,), hidden=0, activation="relu", calibration_size=20)
    model = b.build_model((6, 6, 2), 2, seed=1)
    x = np.random.default_rng(1).uniform(0, 1, (30, 6, 6, 2)).astype("float32")
    with pytest.raises(NotFittedError, match="calibration"):
        b.predict_logits(model, x, batch_size=8, time_steps=4)
    b.after_fit(model, x, np.zeros(30, int), seed=0)
    out = b.predict_logits(model, x, batch_size=8, time_steps=4)
    assert out.shape == (30, 2) and np.isfinite(out).all()
    assert all(t > 0 for t in b.spiking_model(model).thresholds)
