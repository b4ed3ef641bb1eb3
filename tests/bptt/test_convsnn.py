"""ConvSNN backend: model shape, temporal-order learning, quantised evaluation, save/load,
errors."""

import json

import keras
import numpy as np
import pytest

from spykeflow.backends import get as get_backend
from spykeflow.backends.convsnn import ConvSNNBackend


def flash_order_data(n, rng, t_steps=8):
    """Two flashes on a 4x4 grid: A = left column block, B = right column block.

    Class 0: A at t in {0, 1} then B at t in {4, 5}; class 1: B first, then A. Summed over time
    the two classes give the *same* image, so a time-blind model is at chance."""
    x = np.zeros((n, t_steps, 4, 4, 1), np.float32)
    y = np.arange(n) % 2
    for k in range(n):
        t1 = rng.integers(0, 2)
        t2 = rng.integers(4, 6)
        first, second = ((slice(0, 2), slice(2, 4)) if y[k] == 0 else (slice(2, 4), slice(0, 2)))
        x[k, t1, :, first, 0] = 1
        x[k, t2, :, second, 0] = 1
    return x, y


def _fit(backend, x, y, epochs, seed=0, lr=0.05):
    keras.utils.set_random_seed(seed)
    model = backend.build_model(x.shape[1:], 2, seed)
    model.compile(keras.optimizers.Adam(lr), backend.loss())
    model.fit(x, y, epochs=epochs, batch_size=32, verbose=0)
    return model


def test_learns_flash_order_that_a_time_blind_model_cannot(rng):
    x, y = flash_order_data(64, rng)
    summed = x.sum(axis=1).reshape(len(x), -1)
    # Time-blind: both classes have identical time-summed inputs -> no model of them beats chance.
    assert np.array_equal(summed[y == 0][0], summed[y == 1][0])
    assert len(np.unique(summed, axis=0)) == 1
    be = ConvSNNBackend(filters=[4], kernel_sizes=[2], pool=1, hidden=[16],
                        readout="membrane_last", bits=None, beta=0.8)
    model = _fit(be, x, y, epochs=12)
    xt, yt = flash_order_data(32, np.random.default_rng(7))
    acc = (model(xt).numpy().argmax(1) == yt).mean()  # eager call: no second trace
    assert acc >= 0.9, f"ConvSNN failed the temporal-order task: test accuracy {acc}"


def test_model_structure_and_quantised_vs_float(rng):
    be = ConvSNNBackend(filters=[3], kernel_sizes=[3], hidden=[8], bits=3)
    model = be.build_model((4, 8, 8, 2), 5, seed=1)
    names = [lyr.name for lyr in model.layers]
    assert names == ["spikes", "conv1", "pool1", "flatten", "hidden1", "output"]
    assert model.output_shape == (None, 5)
    assert model.get_layer("conv1").bits == 3 and model.get_layer("conv1").reset == "zero"
    assert model.get_layer("conv1").floor == -1.0
    x = (rng.random((6, 4, 8, 8, 2)) < 0.5).astype(np.float32)
    q = be.predict_logits(model, x, 6)
    f = be.predict_logits(model, x, 6, quantized=False)
    assert q.shape == f.shape == (6, 5)
    np.testing.assert_array_equal(q, model(x).numpy())
    # Spike-count readout: integer counts in [0, T].
    assert np.all((q >= 0) & (q <= 4) & (q == np.round(q)))
    exported = be.export_quantized(model)
    assert set(exported) == {"conv1", "hidden1", "output"}
    assert all(np.abs(e["kernel_int"]).max() <= 3 for e in exported.values())
    # Same seed -> same weights.
    again = be.build_model((4, 8, 8, 2), 5, seed=1)
    for a, b in zip(model.get_weights(), again.get_weights()):
        np.testing.assert_array_equal(a, b)
    # 1-D maps and feature sequences.
    assert be.build_model((4, 10, 2), 3, 0).get_layer("conv1").__class__.__name__ == "LIFConv1D"
    assert [lyr.name for lyr in be.build_model((4, 7), 3, 0).layers] == [
        "spikes", "hidden1", "output"]


def test_config_json_and_registry():
    be = get_backend("convsnn", filters=(6,), kernel_sizes=13, hidden=120,
                     surrogate="gaussian", beta=1.0)
    cfg = be.get_config()
    json.dumps(cfg)
    assert cfg["filters"] == [6] and cfg["kernel_sizes"] == [13] and cfg["hidden"] == [120]
    assert ConvSNNBackend(**cfg).get_config() == cfg
    assert cfg["surrogate"] == {"name": "gaussian", "sigma": 0.5}


def test_save_load_round_trip(tmp_path, rng):
    be = ConvSNNBackend(filters=[2], kernel_sizes=[3], hidden=[4], train_beta=True)
    model = be.build_model((3, 6, 6, 1), 3, 0)
    x = (rng.random((4, 3, 6, 6, 1)) < 0.5).astype(np.float32)
    model.save(tmp_path / "c.keras")
    loaded = keras.models.load_model(tmp_path / "c.keras", safe_mode=True)
    np.testing.assert_array_equal(be.predict_logits(loaded, x, 4), be.predict_logits(model, x, 4))


@pytest.mark.parametrize(
    "params, match",
    [
        ({"readout": "softmax"}, "readout"),
        ({"bits": 1}, "bits"),
        ({"filters": [0]}, "filters"),
        ({"filters": [4, 4], "kernel_sizes": [3, 3, 3]}, "kernel size"),
        ({"surrogate": "nope"}, "surrogate"),
        ({"beta": 2.0}, "beta"),
    ],
)
def test_bad_params(params, match):
    with pytest.raises(ValueError, match=match):
        ConvSNNBackend(**params)


def test_unknown_params():
    with pytest.raises(TypeError, match="n_layers"):
        ConvSNNBackend(n_layers=3)
    with pytest.raises(ValueError, match=r"Unknown convsnn parameters \['n_layers'\]"):
        get_backend("convsnn", n_layers=3)


def test_bad_inputs():
    be = ConvSNNBackend()
    with pytest.raises(ValueError, match="time on axis 1"):
        be.check_input(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="time on axis 1"):
        be.check_input(np.zeros((1, 2, 3, 4, 5, 6)))
    with pytest.raises(ValueError, match="at least one time step"):
        be.check_input(np.zeros((2, 0, 8, 8, 1)))
    bad = np.zeros((2, 3, 8, 8, 1))
    bad[0, 1, 2, 3, 0] = np.nan
    with pytest.raises(ValueError, match="finite"):
        be.check_input(bad)
    with pytest.raises(ValueError, match="at least one time step"):
        be.build_model((0, 8, 8, 1), 2, 0)
    with pytest.raises(ValueError, match="n_classes"):
        be.build_model((3, 8, 8, 1), 1, 0)
    with pytest.raises(TypeError, match="quantized"):
        be.predict_logits(None, np.zeros((1, 3, 8, 8, 1)), 1, time_steps=3)


def test_remat_hyper_parameter(rng):
    assert ConvSNNBackend().get_config()["remat"] is False
    be = ConvSNNBackend(filters=[2], kernel_sizes=[3], hidden=[4], remat=True)
    assert be.get_config()["remat"] is True and ConvSNNBackend(**be.get_config()).params["remat"]
    model = be.build_model((3, 6, 6, 1), 3, 0)
    lif = [lyr for lyr in model.layers if hasattr(lyr, "remat")]
    assert [lyr.name for lyr in lif] == ["conv1", "hidden1", "output"]
    assert all(lyr.remat for lyr in lif)
    plain = ConvSNNBackend(filters=[2], kernel_sizes=[3], hidden=[4])
    plain = plain.build_model((3, 6, 6, 1), 3, 0)
    x = (rng.random((4, 3, 6, 6, 1)) < 0.5).astype(np.float32)
    np.testing.assert_array_equal(model(x).numpy(), plain(x).numpy())
    with pytest.raises(TypeError, match="remat"):
        ConvSNNBackend(remat="yes")
