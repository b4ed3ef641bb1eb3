"""Conformance cases: the QCFS activation, its layer and backend model, and the ANN -> SNN
conversion with its spiking simulation.

Most inputs and weights are dyadic (small integers over a power of two), so every sum is exact
in float32 and the floor / threshold edges that QCFS and the IF neurons hit fall the same way on
every backend; the spiking outputs then agree bit for bit, not only to the tolerance.
"""

import keras
import numpy as np
from harness import case, forward_and_grads, rng, saved_model, to_numpy

from spykeflow.backends.qcfs import QCFSBackend
from spykeflow.conversion import convert
from spykeflow.functional import qcfs as F
from spykeflow.layers.qcfs import QCFS

# lambda = 1, L = 4, phi = 0.5: the floor steps at z = 0.125, 0.375, ...; window [-0.125, 0.875)
Z_EDGES = np.array([-0.2, -0.125, 0.0, 0.12499, 0.125, 0.3, 0.6, 0.87499, 0.875, 2.0], "float32")



def _dyadic(r, shape, k=3, denom=8):
    return (r.integers(-k, k + 1, shape) / denom).astype("float32")


def _set_dyadic(model, seed):
    """Dyadic kernels and biases; scalar weights (the QCFS thresholds) stay as built."""
    r = rng(seed)
    model.set_weights([w if w.ndim == 0 else _dyadic(r, w.shape) for w in model.get_weights()])


@case
def qcfs_functional():
    dz, dlam = F.qcfs_gradients(Z_EDGES, 1.0, 4)
    z2 = np.array([-0.13, -0.125, 0.3, 1.87, 1.875, 3.0], "float32")
    dz2, dlam2 = F.qcfs_gradients(z2, 2.0, 8, shift=0.25)
    state = F.if_init((4,), 1.5)
    outs = []
    for _ in range(5):
        out, state = F.if_step(np.array([0.25, 0.75, 1.5, -0.5], "float32"), state, 1.5)
        outs.append(to_numpy(out))
    return {
        "forward": to_numpy(F.qcfs(Z_EDGES, 1.0, 4)),
        "forward_lambda2": to_numpy(F.qcfs(z2, 2.0, 8, shift=0.25)),
        "grad_dz": to_numpy(dz), "grad_dlambda": to_numpy(dlam),
        "grad_dz2": to_numpy(dz2), "grad_dlambda2": to_numpy(dlam2),
        "if_out": np.stack(outs), "if_v": to_numpy(state.v),
    }


@case
def qcfs_layer_edges():
    """The layer alone on the floor edges: straight-through gradients wrt z and lambda."""
    # in a model: the JAX path of forward_and_grads (stateless_call) passes `training`
    model = keras.Sequential([keras.Input((len(Z_EDGES),)), QCFS(levels=4, threshold=1.0)])
    return forward_and_grads(model, Z_EDGES[None])


@case
def qcfs_layer_in_model():
    """Dense -> QCFS(lambda = 1.5) -> Dense: gradients wrt x, kernels, biases and lambda."""
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(5),
                              QCFS(levels=4, threshold=1.5), keras.layers.Dense(3)])
    _set_dyadic(model, 1)
    x = _dyadic(rng(2), (4, 6), k=8)
    return forward_and_grads(model, x)


def _backend_model():
    """The qcfs backend's VGG-style CNN (conv, BatchNorm, QCFS, average pooling, hidden dense)
    with fixed weights, and an input batch."""
    model = QCFSBackend(filters=(4,), convs_per_block=1, hidden=6, levels=4,
                        threshold=1.0).build_model((6, 6, 1), 3, seed=0)
    r = rng(3)
    for variable in model.weights:
        name = variable.path.rsplit("/", 1)[-1]
        shape = tuple(variable.shape)
        if name == "threshold":
            value = r.uniform(0.8, 1.6)
        elif name in ("gamma", "moving_variance"):
            value = r.uniform(0.5, 1.5, shape)
        elif name in ("beta", "moving_mean", "bias"):
            value = r.standard_normal(shape) * 0.1
        else:
            value = r.standard_normal(shape) * 0.5
        variable.assign(np.asarray(value, "float32"))
    x = rng(4).uniform(0, 1, (3, 6, 6, 1)).astype("float32")
    return model, x


@case
def qcfs_backend_model():
    model, x = _backend_model()
    return forward_and_grads(model, x, training=False)


@saved_model
def qcfs_backend_saved():
    return _backend_model()


def _snn_model():
    model = keras.Sequential([
        keras.Input((6, 6, 1)), keras.layers.Conv2D(3, 3, padding="same"),
        QCFS(4, threshold=1.0), keras.layers.AveragePooling2D(2), keras.layers.Flatten(),
        keras.layers.Dense(5), QCFS(4, threshold=1.5), keras.layers.Dense(3)])
    _set_dyadic(model, 13)
    return model


@case
def qcfs_conversion_simulation():
    """QCFS network -> IF neurons: analog net, SNN mean outputs at T = 1, 2, 4, 6, for static
    images, float frames and uint8 event counts scaled in the loop."""
    model = _snn_model()
    r = rng(6)
    x = (r.integers(0, 9, (3, 6, 6, 1)) / 8).astype("float32")
    counts = r.integers(0, 3, (3, 4, 6, 6, 1)).astype(np.uint8)
    snn = convert(model)
    return {
        "ann": to_numpy(model(x)),
        "analog": snn.analog(x),
        "static": snn.simulate(x, 6, record=[1, 2, 4, 6], batch_size=2),
        "counts": snn.simulate(counts, 6, record=[3, 6], input_scale=0.5),
        "frames": snn.simulate(counts.astype("float32") * 0.25, 5, record=[5]),
        "thresholds": np.array(snn.thresholds),
    }


@case
def relu_maxpool_conversion_simulation():
    """Classic conversion (ReLU thresholds from calibration data, max normalisation) with the
    max-pool gate over overlapping, padded windows."""
    model = keras.Sequential([
        keras.Input((5, 5, 2)), keras.layers.Conv2D(3, 3, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(3, strides=2, padding="same"), keras.layers.Flatten(),
        keras.layers.Dense(4), keras.layers.ReLU(), keras.layers.Dense(2)])
    _set_dyadic(model, 7)
    x = (rng(8).integers(0, 9, (4, 5, 5, 2)) / 8).astype("float32")
    snn = convert(model, calibration=x, percentile=100.0, relu_shift=0.5)
    return {
        "thresholds": np.array(snn.thresholds, "float32"),
        "analog": snn.analog(x),
        "static": snn.simulate(x, 6, record=[1, 3, 6]),
    }


@case(cross_backend=False)
def qcfs_classifier_fit():
    """A tiny seeded Classifier(backend="qcfs").fit: learned weights, ANN and SNN predictions
    (only repeated exactly within a backend)."""
    from spykeflow import Classifier

    r = rng(9)
    y = np.repeat([0, 1], 6)
    x = r.uniform(0, 0.3, (12, 6, 6, 1)).astype("float32")
    x[y == 1, 1:4, 1:4, 0] += 0.7
    clf = Classifier(backend="qcfs",
                     backend_params={"filters": (2,), "convs_per_block": 1, "hidden": 0,
                                     "levels": 4, "threshold": 1.0},
                     epochs=2, batch_size=4, learning_rate=1e-2, validation_split=0.0,
                     progress=False, seed=0)
    clf.fit(x, y)
    out = {f"weight_{i}": w for i, w in enumerate(clf.model_.get_weights())}
    out["ann"] = clf.decision_scores(x)
    out["snn"] = clf.decision_scores(x, time_steps=4)
    return out
