"""Classifier backends, resolved by name (``Classifier(backend="binary")``).

Modules are imported only when their backend is requested. To add one, write a module with a
subclass of :class:`~spykeflow.backends.base.KerasBackend` or
:class:`~spykeflow.backends.base.EstimatorBackend` and add its ``"name": "module:Class"`` entry
to ``_BUILTIN``.
"""

from __future__ import annotations

import importlib

from .base import Backend, EstimatorBackend, KerasBackend

__all__ = ["Backend", "KerasBackend", "EstimatorBackend", "get", "available"]

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


def available():
    """Names of the backends that can be imported in this installation."""
    names = []
    for name, target in sorted(_BUILTIN.items()):
        module = target.split(":")[0]
        if importlib.util.find_spec(module) is not None:
            names.append(name)
    return names


def get_class(name):
    """The backend class registered under ``name``; ``ValueError`` lists the valid names."""
    if not isinstance(name, str) or name not in _BUILTIN or name not in available():
        raise ValueError(f"Unknown backend {name!r}. Expected one of {available()}.")
    module_name, cls_name = _BUILTIN[name].split(":")
    return getattr(importlib.import_module(module_name), cls_name)


def get(name, **params):
    """Instantiate the backend ``name`` with hyper-parameters ``params``."""
    return get_class(name)(**params)
