"""Classifier backends, resolved by name (``Classifier(backend="binary")``).

Modules are imported only when their backend is requested. To add one, write a module with a
subclass of :class:`~spykeflow.backends.base.KerasBackend` or
:class:`~spykeflow.backends.base.EstimatorBackend` and add its ``"name": "module:Class"`` entry
to ``_BUILTIN``.
"""

from __future__ import annotations

from importlib import import_module
from importlib.util import find_spec
from typing import Any

from .base import Backend, EstimatorBackend, KerasBackend

__all__ = ["Backend", "KerasBackend", "EstimatorBackend", "get", "get_class", "available"]

_BUILTIN = {
    "binary": "spykeflow.backends.binary:BinaryReadout",
    "relu": "spykeflow.backends.binary:ReluReadout",
    "svm": "spykeflow.backends.svm:LinearSVMBackend",
    "convsnn": "spykeflow.backends.convsnn:ConvSNNBackend",
    "qcfs": "spykeflow.backends.qcfs:QCFSBackend",
    "s2net": "spykeflow.backends.s2net:S2NetBackend",
    "seq_cnn": "spykeflow.backends.sequence_ann:CNNStack",
    "seq_cnn_lstm": "spykeflow.backends.sequence_ann:CNNLSTM",
    "seq_convlstm": "spykeflow.backends.sequence_ann:ConvLSTM",
    "seq_c3d": "spykeflow.backends.sequence_ann:C3D",
    "sts_convsnn": "spykeflow.backends.sts:STSConvSNN",
    "sts_resnet": "spykeflow.backends.sts:STSResNet",
}


def available() -> list[str]:
    """Names of the backends that can be imported in this installation.

    >>> "binary" in available()
    True
    """
    return [name for name, target in sorted(_BUILTIN.items())
            if find_spec(target.split(":")[0]) is not None]


def get_class(name: str) -> type[Backend]:
    """The backend class registered under ``name``; ``ValueError`` lists the valid names."""
    if not isinstance(name, str) or name not in _BUILTIN or name not in available():
        raise ValueError(f"Unknown backend {name!r}. Expected one of {available()}.")
    module_name, cls_name = _BUILTIN[name].split(":")
    return getattr(import_module(module_name), cls_name)


def get(name: str, **params: Any) -> Backend:
    """Instantiate the backend ``name`` with its keyword hyper-parameters ``params``.

    >>> get("svm", C=0.5).get_config()["C"]
    0.5
    >>> get("svm", c=0.5)
    Traceback (most recent call last):
    ...
    ValueError: Unknown svm parameters ['c']. Backend 'svm' takes ['C', 'loss', 'tol', ...
    """
    cls = get_class(name)
    unknown = sorted(set(params) - set(cls.param_names()))
    if unknown:
        raise ValueError(f"Unknown {name} parameters {unknown}. Backend {name!r} takes "
                         f"{cls.param_names()}.")
    return cls(**params)
