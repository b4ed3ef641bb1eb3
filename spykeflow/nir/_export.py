"""``to_graph`` and ``export``: SpykeFlow's spiking models as NIR graphs."""

from __future__ import annotations

import os
import pathlib
from typing import Any

import numpy as np

from .._validation import check_bool, check_float
from .conventions import (
    META_DT,
    META_INPUT,
    META_METHOD,
    META_MODEL,
    META_READOUT,
    META_VERSION,
)

__all__ = ["EXPORTABLE", "to_graph", "export"]

#: What :func:`to_graph` exports.
EXPORTABLE = ("keras.Model of the convsnn, sts_convsnn or s2net backend",
              "Classifier fitted with backend convsnn, sts_convsnn, s2net or qcfs",
              "spykeflow.conversion.SpikingModel (QCFS / ReLU conversion)",
              "spykeflow.Network (fitted STDP network)")
_KERAS_BACKENDS = ("convsnn", "sts_convsnn", "s2net")


def _resolve(model: Any) -> tuple[str, Any]:
    """``(kind, object)`` of what to export: ``"keras"``, ``"snn"`` or ``"network"``."""
    from ..classifier import Classifier
    from ..conversion import SpikingModel
    from ..network import Network

    if isinstance(model, Classifier):
        if not hasattr(model, "model_"):
            from .._validation import check_fitted

            check_fitted(model, "model_")
        backend: Any = model.backend_
        name = backend.name
        if name in _KERAS_BACKENDS:
            return "keras", model.model_
        if name == "qcfs":
            return "snn", backend.spiking_model(model.model_)
        raise ValueError(f"Expected a Classifier with a spiking backend "
                         f"({', '.join(_KERAS_BACKENDS + ('qcfs',))}). Received: backend="
                         f"{name!r}, which has no spiking model to export.")
    if isinstance(model, SpikingModel):
        return "snn", model
    if isinstance(model, Network):
        from .._validation import check_fitted

        check_fitted(model, "weights_")
        return "network", model
    import keras

    if isinstance(model, keras.Model):
        return "keras", model
    raise TypeError(f"Expected one of: {'; '.join(EXPORTABLE)}. Received: "
                    f"{type(model).__name__}.")


def to_graph(model: Any, dt: float = 1e-3, quantized: bool = True) -> Any:
    """A ``nir.NIRGraph`` of a SpykeFlow spiking model (see ``EXPORTABLE``).

    Parameters
    ----------
    model
        A Keras model built by the ``convsnn``, ``sts_convsnn`` or ``s2net`` backend, a fitted
        :class:`~spykeflow.Classifier` with one of those backends or ``qcfs``, a
        :class:`~spykeflow.conversion.SpikingModel`, or a fitted :class:`~spykeflow.Network`.
    dt : float
        Duration of one SpykeFlow time step in the graph's time unit (seconds by the NIR
        frameworks' convention; default 1 ms). The decays map to time constants
        ``tau = dt / (1 - beta)`` (:mod:`spykeflow.nir._builder`), so loading the graph with
        the same ``dt`` and forward Euler reproduces the model. Stored in ``metadata["dt"]``.
    quantized : bool
        For layers trained with quantisation (``bits``): export the integer levels and a
        ``Scale`` node (True), or the float latent weights (False).

    Returns
    -------
    nir.NIRGraph
        With Input/Output types inferred and checked (``nir``'s ``infer_types``); the graph
        metadata holds ``dt`` and how the class scores follow from the Output node
        (:mod:`spykeflow.nir.conventions`).

    Notes
    -----
    Time is not part of a NIR graph: the graph is one step of the model, the simulator repeats
    it. Read-outs over time (spike count, mean) are applied to the Output node's values by the
    user (``metadata["spykeflow_readout"]``). The STDP Network is exported without lateral
    inhibition and STDP competition, which NIR cannot express (:mod:`spykeflow.nir._export_snn`).
    """
    from .._version import __version__
    from ._export_keras import keras_graph
    from ._export_snn import network_graph, spiking_model_graph

    dt = check_float(dt, "dt", low=0.0, low_open=True)
    quantized = check_bool(quantized, "quantized")
    kind, obj = _resolve(model)
    if kind == "keras":
        b, last, info = keras_graph(obj, dt, quantized)
        name = obj.name
    elif kind == "snn":
        b, last, info = spiking_model_graph(obj, dt)
        name = "qcfs_snn"
    else:
        b, last, info = network_graph(obj, dt)
        name = "stdp_network"
    import nir

    shape = np.asarray(b.nodes[last].output_type["output"]) if b.nodes[last].output_type.get(
        "output") is not None else None
    b.add("output", nir.Output(output_type={"output": shape}), last)
    metadata = {META_DT: dt, META_MODEL: name, META_VERSION: __version__, META_METHOD: "euler",
                META_READOUT: info.pop("readout")}
    if "input" in info:
        metadata[META_INPUT] = info.pop("input")
    metadata.update({f"spykeflow_{k}": v for k, v in info.items()})
    return b.graph(metadata)


def export(model: Any, path: str | os.PathLike, dt: float = 1e-3,
           quantized: bool = True) -> pathlib.Path:
    """Write :func:`to_graph`'s graph to ``path`` (HDF5 via ``nir.write``, atomically: a
    temporary file renamed into place). Returns the path.

    >>> import numpy as np, keras, tempfile, pathlib, spykeflow
    >>> from spykeflow.layers.lif import LIFDense
    >>> inp = keras.Input((5, 3))
    >>> model = keras.Model(inp, LIFDense(2, beta=0.5, name="fc")(inp))
    >>> path = export(model, pathlib.Path(tempfile.mkdtemp()) / "fc.nir")
    >>> sim = spykeflow.nir.load(path)            # dt from the file's metadata
    >>> x = (np.random.default_rng(0).random((4, 5, 3)) < 0.5).astype("float32")
    >>> bool((sim.run(x).output == np.asarray(model(x))).all())
    True
    """
    import nir

    from ..io import atomic_path

    graph = to_graph(model, dt=dt, quantized=quantized)
    path = pathlib.Path(path)
    with atomic_path(path) as tmp:
        nir.write(tmp, graph)
    return path
