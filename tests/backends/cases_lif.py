"""Conformance cases: LIF dynamics, the LIF layers, quantisation-aware training, TimeFolded and
the ConvSNN backend (forward, surrogate gradients wrt input and weights, remat, saved model)."""

import keras
import numpy as np
from harness import case, forward_and_grads, rng, saved_model, set_fixed_weights, to_numpy

from spykeflow import Classifier
from spykeflow.backends import get as get_backend
from spykeflow.functional import lif as F
from spykeflow.functional import quantize as Q
from spykeflow.layers.lif import LIFConv1D, LIFConv2D, LIFDense, SequenceFlatten, SequenceMaxPool
from spykeflow.layers.time_fold import TimeFolded

N, T = 3, 5


def _dense_x(seed=1, features=6):
    return (rng(seed).random((N, T, features)) * 1.5).astype("float32")


def _maps_x(seed=2, shape=(7, 7, 2)):
    return (rng(seed).random((2, T) + shape) < 0.5).astype("float32")


def _built(layer, x, seed=0, scale=0.5):
    layer.build(x.shape)
    set_fixed_weights(layer, seed=seed, scale=scale)
    return layer


def _layer_case(make, x, **kwargs):
    return forward_and_grads(_built(make(**kwargs), x), x)


# Neuron settings shared by the dense and convolutional cases.
NEURONS = {
    "subtract": dict(reset="subtract", beta=0.8),
    "zero_floor": dict(reset="zero", floor=-1.0, train_threshold=True),
    "none_alpha": dict(reset="none", alpha=0.6, train_alpha=True, train_beta=True,
                       threshold=2.0),
    "alpha_zero": dict(reset="zero", alpha=0.5, beta=[0.3, 0.5, 0.7, 0.9], train_beta=True),
    "detach": dict(reset="subtract", detach_reset=True, train_threshold=True),
    "quant_channel": dict(bits=4, quant_axis="channel", reset="zero", floor=-1.0,
                          train_threshold=True),
    "quant_layer_unit": dict(bits=3, quant_mode="unit", surrogate="arctan", alpha=0.4),
    "sigmoid": dict(surrogate={"name": "sigmoid", "scale": 5.0}, threshold=0.7),
}


@case
def lif_functional_sequence():
    """lif_sequence / li_sequence on raw currents (every reset, alpha, floor, detach)."""
    x = (rng(3).random((2, 6, 4)) * 1.6 - 0.2).astype("float32")
    out = {}
    for reset in F.RESETS:
        for alpha in (None, 0.5):
            p = F.LIFParams(beta=0.7, threshold=1.0, reset=reset, alpha=alpha, floor=-1.0)
            s, st = F.lif_sequence(x, p)
            tag = f"{reset}_{alpha}"
            out[f"spikes_{tag}"] = to_numpy(s)
            out[f"v_{tag}"] = to_numpy(st.v)
            out[f"i_{tag}"] = to_numpy(st.i)
    v, st = F.li_sequence(x, F.LIParams(beta=0.6, alpha=0.3))
    out["li_v"], out["li_final"] = to_numpy(v), to_numpy(st.v)
    s, st = F.lif_step(x[:, 0], F.initial_state(x[:, 0]), F.LIFParams(beta=0.5, alpha=0.5))
    out["step_s"], out["step_v"] = to_numpy(s), to_numpy(st.v)
    return out


@case
def lif_dense_neurons():
    x = _dense_x()
    out = {}
    for name, kw in NEURONS.items():
        for key, value in _layer_case(LIFDense, x, units=4, **kw).items():
            out[f"{key}_{name}"] = value
    return out


@case
def lif_dense_readouts():
    x = _dense_x(seed=4)
    out = {}
    for spiking, readout in ((True, "sum"), (True, "max"), (False, "mean"), (False, "last")):
        kw = dict(units=3, spiking=spiking, return_sequences=False, readout=readout, alpha=0.5)
        if spiking:
            kw.update(threshold=0.3, reset="zero")
        for key, value in _layer_case(LIFDense, x, **kw).items():
            out[f"{key}_{'lif' if spiking else 'li'}_{readout}"] = value
    return out


@case
def lif_conv2d_neurons():
    x = _maps_x()
    return _conv_cases(LIFConv2D, x, (("zero_floor", "same", 2), ("quant_channel", "valid", 1),
                                      ("alpha_zero", "same", 1)))


@case
def lif_conv1d_neurons():
    x = (rng(5).random((2, T, 9, 2)) * 1.2).astype("float32")
    return _conv_cases(LIFConv1D, x, (("detach", "same", 2), ("quant_layer_unit", "valid", 1)))


def _conv_cases(layer_cls, x, settings):
    """One 3-wide conv layer with 4 filters per (neuron setting, padding, strides)."""
    out = {}
    for name, padding, strides in settings:
        res = _layer_case(layer_cls, x, filters=4, kernel_size=3, strides=strides,
                          padding=padding, **NEURONS[name])
        for key, value in res.items():
            out[f"{key}_{name}_{padding}"] = value
    return out


@case
def lif_pool_flatten_model():
    x = _maps_x(seed=6, shape=(8, 8, 2))
    inp = keras.Input(x.shape[1:])
    h = LIFConv2D(3, 3, padding="same", threshold=0.4)(inp)
    h = SequenceFlatten()(SequenceMaxPool(2)(h))
    out = LIFDense(3, return_sequences=False, readout="sum", threshold=0.4)(h)
    model = keras.Model(inp, out)
    set_fixed_weights(model)
    res = forward_and_grads(model, x)
    pooled = SequenceMaxPool(2)(x)
    res["pool_only"] = to_numpy(pooled)
    res["flatten_only"] = to_numpy(SequenceFlatten()(pooled))
    return res


@case
def time_folded_conv():
    x = (rng(7).random((2, 4, 6, 6, 2))).astype("float32")
    layer = TimeFolded(keras.layers.Conv2D(3, 3, strides=2, padding="same"))
    return forward_and_grads(_built(layer, x), x)


@case
def quantize_functions():
    w = rng(8).standard_normal((3, 3, 2, 5)).astype("float32")
    out = {}
    for bits in (2, 4, 8):
        for axis in (None, -1):
            for mode in Q.SCALE_MODES:
                tag = f"{bits}_{axis}_{mode}"
                q, s = Q.quantize_int(w, bits, axis=axis, mode=mode)
                out[f"fake_{tag}"] = to_numpy(Q.fake_quantize(w, bits, axis=axis, mode=mode))
                out[f"int_{tag}"] = to_numpy(q)
                out[f"scale_{tag}"] = to_numpy(s)
                out[f"deq_{tag}"] = to_numpy(Q.dequantize(q, s))
    return out


def _remat_pair(make, x, **kwargs):
    """Forward and gradients with remat=False and remat=True; they must agree on this backend."""
    plain = forward_and_grads(_built(make(remat=False, **kwargs), x), x)
    remat = forward_and_grads(_built(make(remat=True, **kwargs), x), x)
    assert set(plain) == set(remat)
    for key in plain:
        np.testing.assert_allclose(remat[key], plain[key], rtol=1e-6, atol=1e-6,
                                   err_msg=f"remat changed {key} on {keras.backend.backend()}")
    return remat


@case
def lif_remat_same_as_plain():
    out = {}
    cases = {
        "dense_alpha": (LIFDense, _dense_x(seed=9),
                        dict(units=4, **NEURONS["alpha_zero"], train_threshold=True,
                             train_alpha=True)),
        "dense_li": (LIFDense, _dense_x(seed=11),
                     dict(units=3, spiking=False, alpha=0.5, train_alpha=True, train_beta=True,
                          return_sequences=False, readout="last")),
        "conv2d": (LIFConv2D, _maps_x(seed=12),
                   dict(filters=3, kernel_size=3, **NEURONS["detach"])),
    }
    for name, (make, x, kw) in cases.items():
        for key, value in _remat_pair(make, x, **kw).items():
            out[f"{key}_{name}"] = value
    return out


CONVSNN_PARAMS = dict(filters=[3], kernel_sizes=[3], hidden=[6], threshold=0.5)


def _convsnn(shape=(T, 8, 8, 2), n_classes=3, **params):
    backend = get_backend("convsnn", **{**CONVSNN_PARAMS, **params})
    model = backend.build_model(shape, n_classes, seed=0)
    set_fixed_weights(model)
    return model


@case
def convsnn_model():
    x = _maps_x(seed=13, shape=(8, 8, 2))
    out = {}
    variants = {
        "default": {},
        "membrane_alpha": dict(readout="membrane_max", alpha=0.5, bits=None, reset="subtract"),
    }
    results = {name: forward_and_grads(_convsnn(**params), x)
               for name, params in variants.items()}
    for name, res in results.items():
        for key, value in res.items():
            out[f"{key}_{name}"] = value
    # remat through the backend's hyper-parameter: same numbers.
    plain = results["default"]
    remat = forward_and_grads(_convsnn(remat=True), x)
    for key in plain:
        np.testing.assert_allclose(remat[key], plain[key], rtol=1e-6, atol=1e-6,
                                   err_msg=f"convsnn remat changed {key}")
    x1d = (rng(14).random((2, T, 10, 2)) < 0.5).astype("float32")
    for key, value in forward_and_grads(_convsnn(shape=x1d.shape[1:]), x1d).items():
        out[f"{key}_conv1d"] = value
    return out


@saved_model
def convsnn_saved():
    x = _maps_x(seed=15, shape=(8, 8, 2))
    return _convsnn(remat=True, alpha=0.5), x


@saved_model
def lif_layers_saved():
    x = _maps_x(seed=16, shape=(6, 6, 1))
    inp = keras.Input(x.shape[1:])
    h = TimeFolded(keras.layers.Conv2D(2, 3, padding="same"))(inp)
    h = LIFConv2D(3, 3, bits=4, train_threshold=True, floor=-1.0, reset="zero")(h)
    h = SequenceFlatten()(SequenceMaxPool(2)(h))
    out = LIFDense(4, alpha=0.5, spiking=False, return_sequences=False, readout="last")(h)
    model = keras.Model(inp, out)
    set_fixed_weights(model)
    return model, x


@case(cross_backend=False)
def convsnn_fit_seeded():
    """A short seeded Classifier.fit: the learned weights and scores repeat exactly."""
    r = rng(17)
    x = (r.random((16, 4, 6, 6, 1)) < 0.4).astype("float32")
    y = np.arange(16) % 2
    clf = Classifier("convsnn", backend_params=dict(filters=[2], kernel_sizes=[3], hidden=[6],
                                                    threshold=0.3, readout="membrane_mean"),
                     epochs=2, batch_size=8, validation_split=0.0, progress=False, seed=0,
                     learning_rate=0.01)
    clf.fit(x, y)
    out = {f"weight_{i}": w for i, w in enumerate(clf.model_.get_weights())}
    out["scores"] = clf.decision_scores(x)
    return out
