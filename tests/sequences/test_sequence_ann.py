"""ANN sequence baselines (CNN on stacked frames, CNN+LSTM, ConvLSTM, C3D)."""

import keras
import numpy as np
import pytest

from spykeflow import backends
from spykeflow.backends.sequence_ann import _OneHotMSE

NAMES = ["seq_cnn", "seq_cnn_lstm", "seq_convlstm", "seq_c3d"]


def _flash_order_task(n=32, t=4, size=8, seed=0):
    """Two flashes at fixed places; the label is which one comes first."""
    rng = np.random.default_rng(seed)
    x = np.zeros((n, t, size, size), np.float32)
    y = rng.integers(0, 2, n)
    for i, label in enumerate(y):
        first, second = ((0, 0), (4, 4)) if label == 0 else ((4, 4), (0, 0))
        x[i, 1, first[0]: first[0] + 4, first[1]: first[1] + 4] = 1
        x[i, 2, second[0]: second[0] + 4, second[1]: second[1] + 4] = 1
    return x, y


@pytest.mark.parametrize("name", NAMES)
def test_builds_and_learns_frame_order(name):
    keras.utils.set_random_seed(0)
    backend = backends.get(name, filters=(4, 4), lstm_units=8)
    x, y = _flash_order_task()
    model = backend.build_model(x.shape[1:], 2, seed=0)
    assert model.output_shape == (None, 2)
    model.compile(keras.optimizers.Adam(0.02), backend.loss(), metrics=["accuracy"])
    model.fit(x, y, epochs=15, batch_size=32, verbose=0)
    assert model.evaluate(x, y, verbose=0)[1] == 1.0  # every model sees the frame order


def test_same_seed_same_initial_model():
    x, _ = _flash_order_task(n=4)
    a = backends.get("seq_c3d", filters=(2, 2)).build_model(x.shape[1:], 3, seed=7)
    b = backends.get("seq_c3d", filters=(2, 2)).build_model(x.shape[1:], 3, seed=7)
    np.testing.assert_array_equal(a.predict(x, verbose=0), b.predict(x, verbose=0))


def test_channels_axis_accepted():
    model = backends.get("seq_cnn", filters=(2, 2)).build_model((5, 8, 8, 2), 4, seed=0)
    assert model.predict(np.zeros((1, 5, 8, 8, 2)), verbose=0).shape == (1, 4)


def test_mse_loss_matches_formula():
    logits = np.array([[2.0, 0.0, -1.0]], "float32")
    p = np.exp(logits[0]) / np.exp(logits[0]).sum()
    expected = np.mean((p - np.array([0, 1, 0])) ** 2)
    loss = _OneHotMSE()(np.array([1]), logits)
    assert float(keras.ops.convert_to_numpy(loss)) == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize(
    "kwargs,match",
    [({"filters": (4,)}, "filters to be an int >= 1 or 2 such ints"), ({"dropout": 1.0}, "dropout"),
     ({"loss": "hinge"}, "loss to be one of"), ({"kernel_size": 0}, "kernel_size >= 1")],
)
def test_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        backends.get("seq_cnn", **kwargs)


def test_bad_input_shape():
    with pytest.raises(ValueError, match=r"\(T, H, W\)"):
        backends.get("seq_cnn").build_model((10, 28), 2, seed=0)
