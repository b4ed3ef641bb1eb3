"""SpykeFlow: event-driven spiking neural networks on TensorFlow/Keras 3.

Public API::

    InputLayer   grey images -> spike trains (N, T, H, W, C): DoG ON/OFF + latency coding
    EventEncoder event-camera recordings (e.g. N-MNIST) -> spike frames (N, T, H, W, 2)
    DeltaEncoder real-valued series (N, T, F) -> send-on-delta spikes
    Network      STDP convolutional feature learning (fit / transform) of
    STDPConv,    ... these layers
    SpikePool
    Classifier   surrogate-gradient readouts and BPTT spiking backends
    datasets     loaders (load(name, split, root)) and downloads
    monitors     convergence stop, checkpoints and the other training monitors
    plotting, animation, io, conventions
    functional   the pure functions and Numba kernels behind the classes (for research code)
    conversion   ANN -> SNN conversion (QCFS, max/percentile normalisation)
    nir          NIR interchange: run NIR graphs (load) and export spiking models (export)
    tonic_plugin the optional tonic package (GPL-3, not a dependency): its transforms, frames
                 and datasets in SpykeFlow's event convention
    dask         encoding and feature extraction on a Dask cluster into a resumable Zarr
                 store (extract_features, open_features, encode; the ``dask`` extra)

Heavy modules (TensorFlow) are imported on first use, so ``import spykeflow`` is cheap.
"""

from __future__ import annotations

import importlib

from ._version import __version__

__all__ = ["InputLayer", "EventEncoder", "DeltaEncoder", "Network", "STDPConv", "SpikePool",
           "Classifier", "datasets", "monitors", "plotting", "animation", "io", "conventions",
           "functional", "conversion", "nir", "tonic_plugin", "dask", "__version__"]

_LAZY = {
    "InputLayer": ("spykeflow.input_layer", "InputLayer"),
    "EventEncoder": ("spykeflow.encoders", "EventEncoder"),
    "DeltaEncoder": ("spykeflow.encoders", "DeltaEncoder"),
    "Network": ("spykeflow.network", "Network"),
    "STDPConv": ("spykeflow.stdp.layers", "STDPConv"),
    "SpikePool": ("spykeflow.stdp.layers", "SpikePool"),
    "monitors": ("spykeflow.monitors", None),
    "Classifier": ("spykeflow.classifier", "Classifier"),
    "datasets": ("spykeflow.datasets", None),
    "plotting": ("spykeflow.plotting", None),
    "animation": ("spykeflow.animation", None),
    "io": ("spykeflow.io", None),
    "conventions": ("spykeflow.conventions", None),
    "functional": ("spykeflow.functional", None),
    "conversion": ("spykeflow.conversion", None),
    "nir": ("spykeflow.nir", None),
    "tonic_plugin": ("spykeflow.tonic_plugin", None),
    "dask": ("spykeflow.dask", None),
}


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module 'spykeflow' has no attribute {name!r}")
    module_name, attr = _LAZY[name]
    module = importlib.import_module(module_name)
    value = module if attr is None else getattr(module, attr)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
