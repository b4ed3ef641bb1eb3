"""complexity: hand-computed parameter and operation counts."""

import keras
import numpy as np
import pytest

from spykeflow import complexity as C
from spykeflow.layers.sts import STSConv2D, STSDense, STSSynapse


def test_conv_dense_counts_by_hand():
    inp = keras.Input((8, 8, 2))
    h = keras.layers.Conv2D(4, 3, name="c")(inp)                # out 6x6x4
    h = keras.layers.MaxPooling2D(2)(h)                          # 3x3x4
    out = keras.layers.Dense(5, name="d")(keras.layers.Flatten()(h))
    r = C.complexity(keras.Model(inp, out))
    assert r["params"] == (3 * 3 * 2 * 4 + 4) + (36 * 5 + 5)
    assert [row["macs"] for row in r["layers"]] == [6 * 6 * 3 * 3 * 2 * 4, 36 * 5]
    assert r["macs"] == r["ops"] == 2592 + 180 and r["sops"] == 0


def test_time_distributed_recurrent_and_3d_by_hand():
    t, f, u = 4, 6, 3
    inp = keras.Input((t, 5, 5, 1))
    td = keras.layers.TimeDistributed(keras.layers.Conv2D(2, 3, padding="same"), name="td")(inp)
    cl = keras.layers.ConvLSTM2D(3, 3, padding="same", name="clstm")(td)          # (5, 5, 3)
    c3 = keras.layers.Conv3D(2, (2, 3, 3), name="c3d")(inp)                      # (3, 3, 3, 2)
    seq = keras.layers.Reshape((t, 25))(inp)
    ls = keras.layers.LSTM(u, name="lstm")(keras.layers.Dense(f, name="dd")(seq))
    out = keras.layers.Concatenate()([keras.layers.Flatten()(cl), keras.layers.Flatten()(c3), ls])
    rows = {r["name"]: r["macs"] for r in C.layer_costs(keras.Model(inp, out))}
    assert rows["td"] == t * 25 * 9 * 1 * 2
    assert rows["clstm"] == t * 4 * 25 * 9 * (2 + 3) * 3
    assert rows["c3d"] == 3 * 3 * 3 * (2 * 3 * 3) * 1 * 2
    assert rows["dd"] == t * 25 * f                      # Dense on (T, F): once per step
    assert rows["lstm"] == t * 4 * (f + u) * u


def _snn():
    inp = keras.Input((3, 6, 6, 1))
    h = STSConv2D(2, 3, name="conv")(inp)                              # frames in: ANN MACs
    h = keras.layers.TimeDistributed(keras.layers.Flatten(), name="flat")(h)
    h = keras.layers.Dropout(0.1)(h)
    out = STSDense(4, return_sequences=False, name="out")(h)           # spikes in: SOPs
    return keras.Model(inp, out)


def test_spiking_layers_use_rates():
    model = _snn()
    rows = {r["name"]: r for r in C.layer_costs(model)}
    conv_macs = 3 * 4 * 4 * 9 * 1 * 2
    dense_macs = 3 * 32 * 4
    assert rows["conv"]["macs"] == conv_macs and not rows["conv"]["spiking_input"]
    assert rows["out"]["macs"] == dense_macs and rows["out"]["spiking_input"]
    dense = C.complexity(model)
    assert dense["ops"] == conv_macs + dense_macs and not dense["rated"]
    rated = C.complexity(model, rates={"out": 0.25})
    assert rated["sops"] == pytest.approx(0.25 * dense_macs)
    assert rated["ops"] == pytest.approx(conv_macs + 0.25 * dense_macs)
    with pytest.raises(ValueError, match="not in the model"):
        C.complexity(model, rates={"nope": 0.1})


def test_measure_input_rates_matches_spike_rate():
    inp = keras.Input((4, 8))
    spikes = STSSynapse(name="syn")(inp)                               # threshold 0.5, decay 0.5
    out = STSDense(2, return_sequences=False, name="out")(spikes)
    model = keras.Model(inp, out)
    x = np.zeros((2, 4, 8), "float32")
    x[:, :, :2] = 1.0                  # 2 of 8 inputs always spike (U >= 0.5), the rest never
    rates = C.measure_input_rates(model, x, batch_size=1)
    assert rates == {"out": pytest.approx(0.25)}
    assert C.complexity(model, rates)["sops"] == pytest.approx(0.25 * 4 * 8 * 2)


def test_bad_models():
    with pytest.raises(TypeError, match="keras.Model"):
        C.complexity("model")
    with pytest.raises(ValueError, match="non-empty"):
        C.measure_input_rates(_snn(), np.zeros((0, 3, 6, 6, 1)))
