"""Round trips: every exportable SpykeFlow model -> to_graph -> nir.write -> nir.read ->
spykeflow.nir.load gives the model's outputs (spikes identical, float read-outs within float32
rounding), layer by layer where the model exposes its layers."""

from __future__ import annotations

import copy

import numpy as np
import pytest

nir = pytest.importorskip("nir")
keras = pytest.importorskip("keras")

import spykeflow  # noqa: E402
from spykeflow import nir as snir  # noqa: E402
from spykeflow.backends.convsnn import ConvSNNBackend  # noqa: E402
from spykeflow.backends.qcfs import QCFSBackend  # noqa: E402
from spykeflow.backends.s2net import S2NetBackend  # noqa: E402
from spykeflow.backends.sts import STSConvSNN, STSResNet  # noqa: E402
from spykeflow.conversion import convert  # noqa: E402
from spykeflow.layers.sts import set_mode  # noqa: E402


def through_file(model, tmp_path, **options):
    """Export, write, read back with nir's type check, load with the file's dt."""
    path = snir.export(model, tmp_path / "model.nir", **options)
    graph = nir.read(path)                                  # types consistent
    return snir.load(graph), graph


def readout(sim, out):
    how = sim.metadata["spykeflow_readout"]
    return {"sum": out.sum(1), "mean": out.mean(1), "max": out.max(1), "last": out[:, -1]}[how]


def louder(model, factor):
    """Scale the kernels so that every layer spikes in a few steps."""
    model.set_weights([w * factor if w.ndim > 1 else w for w in model.get_weights()])
    return model


def layer_outputs(model, names, x):
    sub = keras.Model(model.inputs[0], [model.get_layer(n).output for n in names])
    outs = sub(x)
    outs = outs if isinstance(outs, (list, tuple)) else [outs]
    return [np.asarray(o) for o in outs]


CONVSNN = {
    "qat4_zero_floor": dict(),
    "float_subtract": dict(bits=None, reset="subtract", floor=None),
    "synaptic_membrane_readout": dict(alpha=0.6, readout="membrane_mean", bits=None),
    "if_no_reset_layer_scale": dict(beta=1.0, reset="none", quant_axis="layer"),
}


@pytest.mark.parametrize("case", sorted(CONVSNN))
def test_convsnn_2d(case, tmp_path, rng):
    model = louder(ConvSNNBackend(filters=(4,), kernel_sizes=(3,), hidden=(8,), **CONVSNN[case])
                   .build_model((6, 10, 10, 2), 3, seed=1), 3.0)
    x = (rng.random((4, 6, 10, 10, 2)) < 0.3).astype("float32")
    sim, graph = through_file(model, tmp_path)
    res = sim.run(x, record=True)
    logits = np.asarray(model(x))
    np.testing.assert_allclose(readout(sim, res.output), logits, rtol=1e-5, atol=1e-5)
    conv, hidden = layer_outputs(model, ["pool1", "hidden1"], x)
    assert np.array_equal(res.values["pool1"], conv) and conv.sum() > 0
    assert np.array_equal(res.values["hidden1"], hidden) and hidden.sum() > 0
    types = {type(n).__name__ for n in graph.nodes.values()}
    assert {"Conv2d", "SumPool2d", "Threshold", "Flatten", "Affine"} <= types
    if case.startswith("qat4"):
        w = graph.nodes["conv1_synapse"].weight
        assert np.array_equal(w, np.round(w)) and np.abs(w).max() <= 7   # 4-bit levels
        assert "conv1_scale" in graph.nodes and "LIF" in types
        assert graph.nodes["conv1"].metadata["spykeflow_reset"] == "zero"
    if case.startswith("synaptic"):
        assert {"CubaLIF", "CubaLI"} <= types
    if case.startswith("if_no_reset"):
        assert {"I", "Threshold"} <= types and "LIF" not in types


def test_convsnn_float_export_of_a_quantised_model(tmp_path, rng):
    model = louder(ConvSNNBackend(filters=(), hidden=(6,)).build_model((5, 7), 3, seed=2), 3.0)
    x = (rng.random((3, 5, 7)) < 0.5).astype("float32")
    sim, graph = through_file(model, tmp_path, quantized=False)
    assert "hidden1_scale" not in graph.nodes
    float_model = ConvSNNBackend(filters=(), hidden=(6,), bits=None).build_model((5, 7), 3, 2)
    float_model.set_weights(model.get_weights())
    np.testing.assert_array_equal(readout(sim, sim.run(x).output), np.asarray(float_model(x)))


def test_convsnn_1d(tmp_path, rng):
    model = louder(ConvSNNBackend(filters=(3,), kernel_sizes=(3,), hidden=(5,), padding="same")
                   .build_model((5, 8, 2), 3, seed=3), 3.0)
    x = (rng.random((3, 5, 8, 2)) < 0.4).astype("float32")
    sim, graph = through_file(model, tmp_path)
    res = sim.run(x, record=True)
    assert "Conv1d" in {type(n).__name__ for n in graph.nodes.values()}
    (pool,) = layer_outputs(model, ["pool1"], x)
    assert np.array_equal(res.values["pool1"], pool) and pool.sum() > 0
    np.testing.assert_allclose(readout(sim, res.output), np.asarray(model(x)), atol=1e-5)


@pytest.mark.parametrize("rest", [False, True])
def test_sts_convsnn(rest, tmp_path, rng):
    backend = STSConvSNN(filters=(4, 4), rest=rest, input_scale=1 / 255)
    model = louder(backend.build_model((5, 12, 12), 3, seed=0), 4.0)
    x = rng.integers(0, 256, (3, 5, 12, 12)).astype("float32")
    sim, graph = through_file(model, tmp_path)
    res = sim.run(x, record=True)                     # the channel axis may be left out
    np.testing.assert_allclose(readout(sim, res.output), np.asarray(model(x)), atol=1e-6)
    conv1, conv2 = layer_outputs(model, ["conv1", "conv2"], x)
    assert np.array_equal(res.values["conv1"], conv1) and conv1.sum() > 0
    assert np.array_equal(res.values["conv2"], conv2) and conv2.sum() > 0
    types = {type(n).__name__ for n in graph.nodes.values()}
    assert {"Scale", "AvgPool2d"} <= types
    assert ("LIF" in types) == rest and ("LI" in types) != rest


def test_sts_in_the_ann_phase_is_refused(tmp_path):
    model = STSConvSNN(filters=(2,)).build_model((3, 6, 6), 2, seed=0)
    set_mode(model, "ann")
    with pytest.raises(ValueError, match="'ann' phase is not spiking"):
        snir.to_graph(model)


S2NET = {
    "lateral": dict(),
    "recurrent_no_lateral": dict(lateral=False, recurrent=True),
    "same_padding": dict(padding="same"),
}


@pytest.mark.parametrize("case", sorted(S2NET))
def test_s2net(case, tmp_path, rng):
    backend = S2NetBackend(filters=(4, 4), kernel_sizes=((3, 3), (2, 3)),
                           dilations=((1, 1), (2, 2)), **S2NET[case])
    model = backend.build_model((12, 10, 2), 3, seed=0)
    x = (rng.random((3, 12, 10, 2)) * 3).astype("float32")
    sim, graph = through_file(model, tmp_path)
    res = sim.run(x, record=True)
    np.testing.assert_allclose(readout(sim, res.output), np.asarray(model(x)), atol=1e-5)
    s1, s2 = layer_outputs(model, ["s2net_conv1", "s2net_conv2"], x)
    assert np.array_equal(res.values["s2net_conv1"], s1) and s1.sum() > 0
    assert np.array_equal(res.values["s2net_conv2"], s2) and s2.sum() > 0
    assert ("s2net_conv1_lateral", "s2net_conv1_mem") in sim.recurrent_edges
    assert "s2net_conv2_delay0" in graph.nodes and "Delay" in {
        type(n).__name__ for n in graph.nodes.values()}


def test_s2net_on_feature_sequences(tmp_path, rng):
    model = S2NetBackend(filters=(3,), kernel_sizes=((2, 3),), dilations=((1, 1),)
                         ).build_model((8, 6), 2, seed=1)
    x = (rng.random((2, 8, 6)) * 3).astype("float32")
    sim, _ = through_file(model, tmp_path)
    np.testing.assert_allclose(readout(sim, sim.run(x).output), np.asarray(model(x)), atol=1e-5)


def test_qcfs_converted_network(tmp_path, rng):
    ann = QCFSBackend(filters=(4, 8), hidden=16).build_model((12, 12, 1), 3, seed=0)
    snn = convert(ann)
    x = rng.random((4, 12, 12, 1)).astype("float32")
    sim, graph = through_file(snn, tmp_path)
    assert sim.metadata["spykeflow_input"].startswith("constant current")
    out = sim.run(np.repeat(x[:, None], 8, axis=1)).output
    np.testing.assert_allclose(out.mean(1), snn.simulate(x, 8)[0], atol=1e-5)
    ifs = [n for n in graph.nodes.values() if type(n).__name__ == "IF"]
    assert ifs and all(n.metadata["spykeflow_reset"] == "subtract" for n in ifs)


def _network(layers, rng, n=12):
    x = rng.random((n, 5, 11, 11, 2)) < 0.15
    return spykeflow.Network(layers, progress=False).fit(x), x


def _without_inhibition(net):
    clone = copy.deepcopy(net)
    clone.layers_ = [layer.replace(lateral_inhibition=False)
                     if isinstance(layer, spykeflow.STDPConv) else layer for layer in net.layers_]
    return clone


def nir_features(sim, x):
    """Binary features from the NIR run: any spike over time, flattened map-major."""
    out = sim.run(x.astype("float32"), batch_size=8).output            # (N, T, P, Q, C)
    return np.moveaxis(out.max(axis=1) > 0, -1, 1).reshape(len(x), -1).astype(np.uint8)


@pytest.mark.parametrize("mode", ["first_spike", "transient", "accumulate"])
def test_stdp_network_equals_the_network_without_lateral_inhibition(mode, tmp_path, rng):
    conv = spykeflow.STDPConv(4, 3, threshold=2.0, inhibition_window=3, padding=1)
    net, x = _network([conv, spykeflow.SpikePool(2, mode=mode, padding=1)], rng)
    sim, graph = through_file(net, tmp_path)
    reference = _without_inhibition(net)
    assert np.array_equal(nir_features(sim, x), reference.transform(x))
    counts = sim.run(x.astype("float32")).output.sum(axis=1)
    expected = reference.transform(x, layers=[(1, "counts")])
    assert np.array_equal(np.moveaxis(counts, -1, 1).reshape(len(x), -1), expected)


def test_stdp_two_layers_and_what_inhibition_changes(tmp_path, rng):
    layers = [spykeflow.STDPConv(4, 3, threshold=2.0, inhibition_window=3), spykeflow.SpikePool(2),
              spykeflow.STDPConv(3, 2, threshold=1.0, inhibition_window=1), spykeflow.SpikePool(2)]
    net, x = _network(layers, rng)
    sim, _ = through_file(net, tmp_path)
    features = nir_features(sim, x)
    assert np.array_equal(features, _without_inhibition(net).transform(x))
    with_inhibition = net.transform(x)
    assert features.sum() >= with_inhibition.sum()          # inhibition only removes spikes


def test_classifier_dispatch_and_errors(tmp_path, rng):
    x = (rng.random((8, 4, 6)) < 0.5).astype("float32")
    y = np.arange(8) % 2
    clf = spykeflow.Classifier("convsnn", backend_params={"filters": [], "hidden": [4]},
                               epochs=1, batch_size=4, validation_split=0.0, progress=False)
    with pytest.raises(Exception, match="not fitted"):
        snir.to_graph(clf)
    clf.fit(x, y)
    sim, _ = through_file(clf, tmp_path)
    np.testing.assert_allclose(readout(sim, sim.run(x).output), clf.decision_scores(x),
                               atol=1e-5)
    svm = spykeflow.Classifier("svm").fit(x.reshape(8, -1), y)
    with pytest.raises(ValueError, match="no spiking model to export"):
        snir.to_graph(svm)
    with pytest.raises(TypeError, match="Expected one of"):
        snir.to_graph(object())
    with pytest.raises(Exception, match="not fitted"):
        snir.to_graph(spykeflow.Network())
    with pytest.raises(ValueError, match="Expected dt > 0"):
        snir.to_graph(clf, dt=0)


def test_unsupported_models_are_named(rng):
    resnet = STSResNet(base_width=2).build_model((3, 8, 8), 2, seed=0)
    with pytest.raises(ValueError, match="chain of layers"):
        snir.to_graph(resnet)
    inp = keras.Input((4, 3))
    dense = keras.Model(inp, keras.layers.Dense(2, name="plain")(inp))
    with pytest.raises(ValueError, match=r"layer 'plain' of type Dense.*Supported layers"):
        snir.to_graph(dense)
