"""Model complexity: parameters and operations per sample (Samadzadeh et al., Figure 6).

For every layer with weights of a Keras model the cost of *one* sample is counted:

=========================================  ===================================================
layer                                      multiply-accumulates (MACs) per sample
=========================================  ===================================================
``Dense`` (and ``LIFDense``/``STSDense``)  ``F_in * units`` per position (x T over a time axis)
``ConvND``, ``LIFConv*``, ``STSConv2D``    ``prod(output spatial) * prod(kernel) *
                                           C_in/groups * C_out`` (x T for the LIF layers: one
                                           conv per time step)
``TimeDistributed(layer)``                 T x the inner layer's MACs
``LSTM``                                   ``T * 4 * (F_in + units) * units``
``ConvLSTM2D``                             ``T * 4 * prod(output spatial) * prod(kernel) *
                                           (C_in + filters) * filters``
=========================================  ===================================================

Bias additions, activations, pooling, normalisation and LSTM gate products are not counted
(they are small next to the MACs and the paper's figure counts multiply-accumulate work).

**Spiking layers.** A layer whose input comes from spiking neurons (``STSSynapse``, the STS and
LIF layers with ``spiking=True``, possibly through dropout, pooling, flatten, reshape or
concatenation) receives binary events, and each event costs one accumulate per synapse it reaches:
its *synaptic operations* are ``SOPs = MACs * r``, with ``r`` the measured mean input (the spike
rate; for average-pooled spikes the mean equals the rate of the pooled spikes). Without a
measured rate the dense count ``SOPs = MACs`` is used. ``ops`` adds the MACs of the ANN layers
and the SOPs of the spiking layers; :func:`measure_input_rates` measures ``r`` on data (run the
STS models in their "snn" mode).

>>> import keras
>>> inp = keras.Input((8, 8, 1))
>>> h = keras.layers.Conv2D(4, 3, name="c")(inp)           # 6*6 * 3*3*1 * 4 = 1296 MACs
>>> out = keras.layers.Dense(2, name="d")(keras.layers.Flatten()(h))   # 144*2 = 288 MACs
>>> report = complexity(keras.Model(inp, out))
>>> report["params"], report["macs"], report["ops"]
(330, 1584, 1584)
"""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np

from ._validation import check_int

__all__ = ["complexity", "layer_costs", "measure_input_rates", "count_params", "format_ops"]

logger = logging.getLogger("spykeflow.complexity")

# Layers that pass spikes through without weights (input spikes -> output still event-like).
_PASS_THROUGH = (
    "Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "Flatten", "Reshape",
    "Permute", "MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D",
    "AveragePooling2D", "AveragePooling3D", "GlobalAveragePooling1D", "GlobalAveragePooling2D",
    "GlobalAveragePooling3D", "GlobalMaxPooling1D", "GlobalMaxPooling2D", "Concatenate",
    "ZeroPadding2D", "Cropping2D", "Identity",
)


def _keras():
    import keras

    return keras


def _is_spiking_layer(layer):
    from .layers.sts import STSSynapse, _STSState

    if isinstance(layer, (STSSynapse, _STSState)):
        return True
    try:
        from .layers.lif import _LIFBase
    except ImportError:  # pragma: no cover - layers.lif always present
        return False
    return isinstance(layer, _LIFBase) and bool(getattr(layer, "spiking", False))


def _check_model(model):
    keras = _keras()
    if not isinstance(model, keras.Model):
        raise TypeError(
            f"Expected a keras.Model (e.g. Classifier.model_ or backend.build_model(...)). "
            f"Received: {type(model).__name__}."
        )
    if not model.built:
        raise ValueError("Expected a built model. Build it (call it on data or keras.Input) first.")


def _parents(layer):
    """Layers feeding ``layer`` (first inbound node)."""
    nodes = getattr(layer, "_inbound_nodes", [])
    if not nodes:
        return []
    return [t._keras_history.operation for t in nodes[0].input_tensors]


def _spiking_source(layer, memo):
    """True if every input of ``layer`` comes (through pass-through layers) from spiking neurons."""
    keras = _keras()
    parents = _parents(layer)
    if not parents:
        return False
    result = True
    for parent in parents:
        key = id(parent)
        if key not in memo:
            memo[key] = False  # guard against cycles
            if _is_spiking_layer(parent):
                memo[key] = True
            else:
                inner = parent.layer if isinstance(parent, keras.layers.TimeDistributed) else parent
                if type(inner).__name__ in _PASS_THROUGH:
                    memo[key] = _spiking_source(parent, memo)
        result = result and memo[key]
    return result


def _shapes(layer):
    node = layer._inbound_nodes[0]
    return tuple(node.input_tensors[0].shape), tuple(node.output_tensors[0].shape)


def _conv_macs(kernel_shape, out_spatial, groups=1):
    *k, c_in, c_out = kernel_shape
    return int(np.prod(out_spatial)) * int(np.prod(k)) * (c_in // max(groups, 1)) * c_out


def _step_macs(layer, in_shape, out_shape):
    """MACs of ``layer`` for one sample given its per-sample input/output shapes (no batch)."""
    keras = _keras()
    from .layers.lif import LIFDense, _LIFConv

    name = type(layer).__name__
    if isinstance(layer, keras.layers.TimeDistributed):
        t = in_shape[0]
        return t * _step_macs(layer.layer, in_shape[1:], out_shape[1:])
    if isinstance(layer, LIFDense):  # includes STSDense; (T, F) -> (T, units)
        return in_shape[0] * int(layer.kernel.shape[0]) * int(layer.kernel.shape[1])
    if isinstance(layer, _LIFConv):  # includes STSConv2D; (T, ..., C)
        return in_shape[0] * _conv_macs(tuple(layer.kernel.shape), out_shape[1:-1])
    if isinstance(layer, keras.layers.ConvLSTM2D) or name.startswith("ConvLSTM"):
        t = in_shape[0]
        k = tuple(getattr(layer, "cell", layer).kernel.shape)  # (*k, C_in, 4F)
        f = k[-1] // 4
        spatial = out_shape[1:-1] if layer.return_sequences else out_shape[:-1]
        return t * 4 * int(np.prod(spatial)) * int(np.prod(k[:-2])) * (k[-2] + f) * f
    if isinstance(layer, (keras.layers.LSTM, keras.layers.GRU, keras.layers.SimpleRNN)):
        gates = {"LSTM": 4, "GRU": 3}.get(name, 1)
        t, f_in = in_shape[0], in_shape[-1]
        units = layer.units if hasattr(layer, "units") else layer.cell.units
        return t * gates * (f_in + units) * units
    if isinstance(layer, keras.layers.Dense):
        positions = int(np.prod(in_shape[:-1])) if len(in_shape) > 1 else 1
        return positions * int(layer.kernel.shape[0]) * int(layer.kernel.shape[1])
    if isinstance(layer, (keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D)):
        return _conv_macs(tuple(layer.kernel.shape), out_shape[:-1], getattr(layer, "groups", 1))
    if not layer.weights or not any(w.trainable for w in layer.weights):
        return 0
    raise ValueError(
        f"complexity does not know how to count the operations of layer {layer.name!r} "
        f"({name}). Supported: Dense, Conv1D/2D/3D, TimeDistributed, LSTM, GRU, ConvLSTM2D and "
        "the LIF/STS layers."
    )


def count_params(model: Any) -> int:
    """Number of trainable parameters of ``model``."""
    return int(sum(int(np.prod(w.shape)) for w in model.trainable_weights))


def layer_costs(model: Any, rates: dict[str, float] | None = None) -> list[dict[str, Any]]:
    """Per-layer cost of one sample.

    Parameters
    ----------
    model : keras.Model (functional), built
    rates : dict or None
        ``{layer_name: mean input activity}`` of spiking-input layers (from
        :func:`measure_input_rates`); missing layers use the dense count.

    Returns
    -------
    list of dict
        One entry per layer with trainable weights: ``name``, ``type``, ``params``, ``macs``,
        ``spiking_input`` (bool), ``rate`` (float or None) and ``ops`` (``macs`` for ANN
        layers, ``macs * rate`` -- or ``macs`` without a rate -- for spiking-input layers).
    """
    _check_model(model)
    keras = _keras()
    rates = dict(rates or {})
    unknown = set(rates) - {layer.name for layer in model.layers}
    if unknown:
        raise ValueError(
            f"rates names layers that are not in the model: {sorted(unknown)}. "
            f"Expected names among {[layer.name for layer in model.layers]}."
        )
    memo: dict[int, bool] = {}
    rows: list[dict[str, Any]] = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):  # nested model: no spike tracking across the boundary
            for row in layer_costs(layer):
                rows.append({**row, "name": f"{layer.name}/{row['name']}"})
            continue
        params = int(sum(int(np.prod(w.shape)) for w in layer.trainable_weights))
        if params == 0:
            continue
        in_shape, out_shape = _shapes(layer)
        macs = int(_step_macs(layer, in_shape[1:], out_shape[1:]))
        spiking = _spiking_source(layer, memo)
        rate = rates.get(layer.name) if spiking else None
        ops = macs if rate is None else macs * float(rate)
        kind = type(layer).__name__
        if isinstance(layer, keras.layers.TimeDistributed):
            kind = f"TimeDistributed({type(layer.layer).__name__})"
        rows.append(dict(name=layer.name, type=kind,
            params=params, macs=macs, spiking_input=bool(spiking),
            rate=None if rate is None else float(rate), ops=ops))
    return rows


def complexity(model: Any, rates: dict[str, float] | None = None) -> dict[str, Any]:
    """Parameters and operations per sample of ``model`` (see the module docstring).

    Returns
    -------
    dict
        ``params`` (trainable), ``macs`` (dense multiply-accumulates of all layers), ``sops``
        (synaptic operations of the spiking-input layers, rate-weighted if ``rates`` given),
        ``ops`` (ANN MACs + SOPs), ``rated`` (whether measured rates were used) and ``layers``
        (:func:`layer_costs`).
    """
    rows = layer_costs(model, rates)
    macs = sum(r["macs"] for r in rows)
    sops = sum(r["ops"] for r in rows if r["spiking_input"])
    ann = sum(r["macs"] for r in rows if not r["spiking_input"])
    ops = ann + sops
    as_int = (lambda v: int(round(v))) if not rates else float
    return dict(params=count_params(model), macs=int(macs), sops=as_int(sops), ops=as_int(ops),
                rated=bool(rates), layers=rows)


def measure_input_rates(model: Any, x: Any, batch_size: int = 64) -> dict[str, float]:
    """Mean input activity of every spiking-input layer of ``model`` on data ``x``.

    The mean is over samples, time steps, positions and channels of the layer's input (for
    binary spikes: the spike rate; for average-pooled spikes: the rate of the pooled spikes).

    Parameters
    ----------
    model : keras.Model
    x : array ``(N, ...)`` accepted by ``model``
    batch_size : int

    Returns
    -------
    dict ``{layer_name: rate}``
    """
    _check_model(model)
    batch_size = check_int(batch_size, "batch_size")
    keras = _keras()
    x = np.asarray(x)
    if x.ndim < 2 or len(x) == 0:
        raise ValueError(
            f"Expected a non-empty batch x of shape (N, ...). Received: shape={x.shape}.")
    memo: dict[int, bool] = {}
    names: list[str] = []
    tensors: list[Any] = []
    for layer in model.layers:
        if isinstance(layer, keras.Model) or not layer.trainable_weights:
            continue
        if _spiking_source(layer, memo):
            names.append(layer.name)
            tensors.append(layer._inbound_nodes[0].input_tensors[0])
    if not names:
        return {}
    probe = keras.Model(list(model.inputs), tensors)
    sums = np.zeros(len(names))
    counts = np.zeros(len(names))
    for start in range(0, len(x), batch_size):
        outs = probe([np.asarray(x[start:start + batch_size], np.float32)], training=False)
        outs = outs if isinstance(outs, (list, tuple)) else [outs]
        for i, o in enumerate(outs):
            o = keras.ops.convert_to_numpy(o)
            sums[i] += float(o.sum())
            counts[i] += o.size
    return {n: float(s / c) for n, s, c in zip(names, sums, counts)}


def format_ops(value: float) -> str:
    """Human-readable operation count: ``format_ops(2.5e6) == '2.50 M'``.

    >>> format_ops(2.5e6), format_ops(1234), format_ops(3.2e9)
    ('2.50 M', '1.23 k', '3.20 G')
    """
    value = float(value)
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(value) >= scale:
            return f"{value / scale:.2f} {unit}"
    return f"{value:.0f}" if math.isfinite(value) else str(value)
