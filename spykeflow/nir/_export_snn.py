"""Export of the STDP :class:`~spykeflow.Network` and of QCFS-converted networks
(:class:`~spykeflow.conversion.SpikingModel`) to NIR.

STDP Network (inference, as :meth:`Network.transform` runs it, up to ``feature_layer``)
    ``STDPConv`` -> ``Conv2d`` (weights ``(filters, C_in, k, k)``, padding ``padding``, no
    bias) -> ``IF`` (``r = 1/dt``: the potential is the running sum of the input currents, no
    leak; threshold ``theta``; ``v_reset = -inf``: a neuron fires once per sample and stays
    silent, as the network's neurons do). ``SpikePool`` -> ``SumPool2d`` of the conv spikes,
    then ``"transient"``: ``Threshold(0.5)`` (a pool neuron fires whenever an input fires);
    ``"first_spike"``: ``IF(threshold 0.5, v_reset -inf)`` (only the first time);
    ``"accumulate"``: ``IF(threshold 0.5, v_reset 1)`` (every step from the first on).
    Lateral inhibition (one spike per position in the argmax map) and STDP competition have no
    NIR primitive: they are left out, so the exported network is the network with
    ``lateral_inhibition=False`` -- every conv neuron fires once at its first crossing. The
    per-sample threshold jitter is left out too (the nominal threshold is exported).

QCFS-converted networks
    ``conv``/``dense``/``avgpool``/``flatten`` -> ``Conv2d``/``Affine``/``AvgPool2d``/
    ``Flatten``; each IF layer -> ``IF`` (``r = 1/dt``, threshold ``theta``, reset by
    subtraction, initial membrane ``phi theta``: node metadata) followed by ``Scale(theta)``
    (the spike is passed on weighted by the threshold). The last layer is the read-out: its
    output averaged over time is the SNN's logits. A static input is fed as the same current
    at every step. Max-pooling gates (Rueckauer et al.) have no NIR form and are refused.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._builder import GraphBuilder, full
from ._export_keras import _keras_order
from .conventions import META_INCLUSIVE, META_RESET, META_V_INIT

__all__ = ["network_graph", "spiking_model_graph"]


def _conv2d(shape, weight_hwio: np.ndarray, bias, strides, padding, dilation=(1, 1)):
    """A NIR ``Conv2d`` for a channels-last kernel ``(kh, kw, in, out)`` and NIR input
    ``shape`` ``(C, H, W)``; returns ``(node, out_shape)``."""
    import nir

    from ._export_keras import _out_size, _same_pads

    weight = np.transpose(weight_hwio, (3, 2, 0, 1))
    kernel = weight.shape[2:]
    pads: Any
    if isinstance(padding, str):
        if padding == "valid":
            pads = [0, 0]
        else:
            both = [_same_pads(n, k, s, d) for n, k, s, d in
                    zip(shape[1:], kernel, strides, dilation)]
            if any(a != b for a, b in both):
                if all(s == 1 for s in strides):
                    pads = "same"
                else:
                    raise ValueError(f"Cannot export a 'same' convolution with strides "
                                     f"{tuple(strides)}: it pads unevenly ({both}).")
            else:
                pads = [a for a, _ in both]
    else:
        pads = [int(padding)] * 2
    out = tuple(shape[1:]) if pads == "same" else tuple(
        _out_size(n, k, s, p, d) for n, k, s, p, d in zip(shape[1:], kernel, strides, pads,
                                                          dilation))
    node = nir.Conv2d(input_shape=tuple(shape[1:]), weight=np.ascontiguousarray(weight,
                                                                                np.float32),
                      stride=tuple(int(s) for s in strides),
                      padding=pads if pads == "same" else tuple(pads),
                      dilation=tuple(int(d) for d in dilation), groups=1,
                      bias=np.asarray(bias, np.float32))
    return node, (int(weight.shape[0]),) + out


def network_graph(net: Any, dt: float) -> tuple[GraphBuilder, str, dict]:
    """Nodes and edges of a fitted STDP Network up to its feature layer."""
    import nir

    from ..stdp.layers import STDPConv

    layers, weights = net.layers_, net.weights_
    last = net.feature_layer % len(layers)
    t, h, w, c = net.input_shape_
    shape: tuple[int, ...] = (int(c), int(h), int(w))
    b = GraphBuilder()
    src = b.add("input", nir.Input(input_type={"input": np.array(shape)}))
    jitter = []
    for i, layer in enumerate(layers[:last + 1]):
        name = f"layer{i}"
        if isinstance(layer, STDPConv):
            node, shape = _conv2d(shape, weights[i], np.zeros(layer.filters), (1, 1),
                                  int(layer.padding))
            src = b.add(f"{name}_conv", node, src)
            meta = {} if layer.neuron.strict_threshold else {META_INCLUSIVE: ">="}
            jitter.append(float(layer.neuron.threshold_jitter))
            src = b.add(f"{name}_if", nir.IF(r=full(1.0 / dt, shape),
                                             v_threshold=full(layer.neuron.threshold, shape),
                                             v_reset=full(-np.inf, shape), metadata=meta), src)
        else:
            p = int(layer.padding)
            k, s = int(layer.size), int(layer.stride)
            src = b.add(f"{name}_sum", nir.SumPool2d(kernel_size=np.array([k, k]),
                                                     stride=np.array([s, s]),
                                                     padding=np.array([p, p])), src)
            shape = (shape[0],) + tuple((n + 2 * p - k) // s + 1 for n in shape[1:])
            mode = layer.resolved_mode(is_last=i == len(layers) - 1)
            if mode == "transient":
                src = b.add(f"{name}_pool", nir.Threshold(threshold=full(0.5, shape)), src)
            else:
                reset = -np.inf if mode == "first_spike" else 1.0
                src = b.add(f"{name}_pool", nir.IF(r=full(1.0 / dt, shape),
                                                   v_threshold=full(0.5, shape),
                                                   v_reset=full(reset, shape)), src)
    info = {"readout": "features", "threshold_jitter": max(jitter) if jitter else 0.0,
            "time_steps": int(t)}
    return b, src, info


def spiking_model_graph(snn: Any, dt: float) -> tuple[GraphBuilder, str, dict]:
    """Nodes and edges of a :class:`~spykeflow.conversion.SpikingModel`."""
    import nir

    in_shape = tuple(int(s) for s in snn.input_shape)
    if len(in_shape) != 3 and len(in_shape) != 1:
        raise ValueError(f"Expected a converted network on images (H, W, C) or vectors (F,). "
                         f"Received: input_shape={in_shape}.")
    shape: tuple[int, ...] = (in_shape[2],) + in_shape[:2] if len(in_shape) == 3 else in_shape
    b = GraphBuilder()
    src = b.add("input", nir.Input(input_type={"input": np.array(shape)}))
    perm = None
    for i, op in enumerate(snn.ops):
        p, name = op.params, f"op{i}_{op.kind}"
        if op.kind == "conv":
            node, shape = _conv2d(shape, np.asarray(p["kernel"], np.float64), p["bias"],
                                  p["strides"], p["padding"], p["dilation"])
            src = b.add(name, node, src)
        elif op.kind == "dense":
            kernel = np.asarray(p["kernel"], np.float64)
            if perm is not None:
                kernel, perm = kernel[perm], None
            src = b.add(name, nir.Affine(weight=np.ascontiguousarray(kernel.T, np.float32),
                                         bias=np.asarray(p["bias"], np.float32)), src)
            shape = (int(kernel.shape[1]),)
        elif op.kind == "avgpool":
            if p["padding"] != "valid":
                raise ValueError(f"Cannot export {op.name!r}: average pooling with 'same' "
                                 "padding (Keras leaves the padding out of the average).")
            k, s = tuple(p["pool"]), tuple(p["strides"])
            src = b.add(name, nir.AvgPool2d(kernel_size=np.array(k), stride=np.array(s),
                                            padding=np.array([0, 0])), src)
            shape = (shape[0],) + tuple((n - kk) // ss + 1 for n, kk, ss in zip(shape[1:], k, s))
        elif op.kind == "flatten":
            if len(shape) > 1:
                perm = _keras_order(shape)
                src = b.add(name, nir.Flatten(input_type={"input": np.array(shape)},
                                              start_dim=0, end_dim=-1), src)
                shape = (int(np.prod(shape)),)
        elif op.kind == "if":
            theta = float(np.asarray(p["threshold"]))
            meta = {META_RESET: "subtract", META_INCLUSIVE: ">=",
                    META_V_INIT: full(p["shift"] * theta, shape)}
            src = b.add(name, nir.IF(r=full(1.0 / dt, shape), v_threshold=full(theta, shape),
                                     v_reset=full(0.0, shape), metadata=meta), src)
            src = b.add(f"{name}_out", nir.Scale(scale=full(theta, shape)), src)
        else:
            raise ValueError(f"Cannot export {op.name!r} ({op.kind}): the max-pooling gate of "
                             "Rueckauer et al. has no NIR primitive; convert a network with "
                             "average pooling (the qcfs backend builds one).")
    return b, src, {"readout": "mean",
                    "input": "constant current: the same input at every step"}
