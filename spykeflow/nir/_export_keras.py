"""Export of SpykeFlow's Keras spiking models (``convsnn``, ``sts_convsnn``, ``s2net``) to NIR.

The model must be one chain of the layers below, time on axis 1 (the backends build exactly
such models); each layer becomes NIR nodes working on one time step, channels first:

======================================  =====================================================
Keras layer                             NIR nodes
======================================  =====================================================
``Reshape`` adding the channel axis     (the Input node gets the channel axis; first layer)
``Rescaling`` (offset 0)                ``Scale``
``LIFDense`` / ``STSDense``             ``Affine`` (+ ``Scale`` with QAT) + neuron node(s)
``LIFConv1D/2D`` / ``STSConv2D``        ``Conv1d``/``Conv2d`` (+ ``Scale``) + neuron node(s)
``SequenceMaxPool``, ``MaxPooling2D``   ``SumPool2d`` (1-D: a ``Conv1d`` summing each window)
                                        + ``Threshold(0.5)``: the max of 0/1 spikes is their OR
``AveragePooling2D`` (``TimeFolded``)   ``AvgPool2d``
``SequenceFlatten``, ``Flatten``        ``Flatten`` (the next weight's columns are permuted
                                        from Keras' channels-last order to NIR's channels-first)
``S2NetConv1D/2D``, ``S2NetDense``      per temporal tap ``j``: ``Delay((k_t-1-j) d_t dt)`` ->
                                        ``Conv``; ``LI`` -> ``Threshold``, and a recurrent
                                        edge ``Threshold`` -> 1x1 ``Conv``/``Linear`` -> ``LI``
                                        for the lateral (and recurrent) connections
``S2NetReadout``                        ``Flatten`` + ``Affine`` (averaged over time outside)
``Dropout``                             nothing (inference)
======================================  =====================================================

Quantisation-aware training (``bits``): with ``quantized=True`` the weights are exported as
their integer levels ``q`` (integer-valued floats) followed by a ``Scale`` node holding the
scale ``s`` (per output channel or per layer), and the bias as ``b / s``, so that
``s * (conv(x, q) + b / s)`` is the layer's quantised current ``conv(x, q s) + b``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._builder import GraphBuilder, full, neuron_nodes
from .conventions import META_INCLUSIVE

__all__ = ["keras_graph", "SUPPORTED_LAYERS"]

#: Keras layer types :func:`keras_graph` exports.
SUPPORTED_LAYERS = ("InputLayer", "Reshape (adding a channel axis, first layer)",
                    "Rescaling", "LIFDense", "LIFConv1D", "LIFConv2D", "STSDense", "STSConv2D",
                    "SequenceMaxPool", "SequenceFlatten", "TimeFolded(AveragePooling2D / "
                    "MaxPooling2D / Flatten / Dropout)", "S2NetDense", "S2NetConv1D",
                    "S2NetConv2D", "S2NetReadout", "Dropout")


def _np(x: Any) -> np.ndarray:
    from keras import ops

    return np.asarray(ops.convert_to_numpy(x), np.float64)


def _unsupported(layer: Any, why: str = "") -> ValueError:
    return ValueError(
        f"Cannot export layer {layer.name!r} of type {type(layer).__name__} to NIR"
        f"{': ' + why if why else ''}. Supported layers: {', '.join(SUPPORTED_LAYERS)}.")


def _chain(model: Any) -> list:
    import keras

    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise ValueError("Expected a model with one input and one output (a chain of layers). "
                         f"Received: {len(model.inputs)} inputs, {len(model.outputs)} outputs.")
    layers = [lyr for lyr in model.layers if not isinstance(lyr, keras.layers.InputLayer)]
    prev = model.inputs[0]
    for layer in layers:
        inp = layer.input
        if isinstance(inp, (list, tuple)) or inp is not prev:
            raise ValueError(f"Expected a chain of layers (each taking the previous one's "
                             f"output); layer {layer.name!r} does not. Branching models (e.g. "
                             "sts_resnet) have no export.")
        prev = layer.output
    return layers


def _keras_order(shape: tuple[int, ...]) -> np.ndarray:
    """For a NIR (channels-first) shape: the channels-last flat index of every element, in NIR
    flat order (the column permutation from Keras' Flatten to NIR's)."""
    if len(shape) < 2:
        return np.arange(int(np.prod(shape)))
    last = tuple(shape[1:]) + (shape[0],)
    idx = np.arange(int(np.prod(shape))).reshape(last)
    return np.moveaxis(idx, -1, 0).reshape(-1)


def _same_pads(size: int, k: int, s: int, d: int = 1) -> tuple[int, int]:
    """Keras/TensorFlow 'same' padding of one axis: ``(before, after)``."""
    out = -(-size // s)
    total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
    return total // 2, total - total // 2


def _nir_padding(padding: str, sizes, kernel, strides, dilation, layer) -> Any:
    """NIR padding for a Keras padding string: ints when symmetric, ``"same"`` (stride 1)."""
    if padding == "valid":
        return [0] * len(kernel)
    pads = [_same_pads(n, k, s, d) for n, k, s, d in zip(sizes, kernel, strides, dilation)]
    if all(a == b for a, b in pads):
        return [a for a, _ in pads]
    if all(s == 1 for s in strides):
        return "same"
    raise _unsupported(layer, f"padding 'same' with strides {tuple(strides)} pads unevenly "
                              f"{pads}, which NIR cannot express")


def _out_size(n: int, k: int, s: int, pad: Any, d: int = 1) -> int:
    if pad == "same":
        return n
    return (n + 2 * pad - d * (k - 1) - 1) // s + 1


class _Walk:
    """State of the walk along the chain: the current node, its NIR shape, whether its values
    are 0/1 spikes, and a pending Flatten column permutation."""

    def __init__(self, b: GraphBuilder, dt: float, quantized: bool) -> None:
        self.b, self.dt, self.quantized = b, dt, quantized
        self.src = "input"
        self.shape: tuple[int, ...] = ()
        self.binary = False
        self.perm: np.ndarray | None = None
        self.readout: str | None = None

    # -- helpers --------------------------------------------------------------------------------
    def _weights(self, layer) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """``(kernel, bias, scale)``: integer levels and scale with QAT, else floats."""
        from ..functional import quantize as Q

        n_out = int(layer.kernel.shape[-1])
        bias = _np(layer.bias) if layer.bias is not None else np.zeros(n_out)
        if layer.bits is None or not self.quantized:
            return _np(layer.kernel), bias, None
        axis = -1 if layer.quant_axis == "channel" else None
        q, s = Q.quantize_int(layer.kernel, layer.bits, axis=axis, mode=layer.quant_mode)
        scale = np.broadcast_to(_np(s).reshape(-1), (n_out,)).astype(np.float64)
        return _np(q), bias / scale, scale

    def _dense_weight(self, kernel: np.ndarray) -> np.ndarray:
        """Kernel ``(in, out)`` -> NIR weight ``(out, in)``, columns in NIR order."""
        if self.perm is not None:
            kernel = kernel[self.perm]
            self.perm = None
        return np.ascontiguousarray(kernel.T, np.float32)

    def _check_last(self, layer, last):
        if not last:
            raise _unsupported(layer, "return_sequences=False (a read-out over time) must be "
                                      "the last layer")

    # -- layers ---------------------------------------------------------------------------------
    def lif(self, layer, last: bool) -> None:
        import nir

        from ..layers.lif import LIFConv1D, LIFConv2D

        b, name = self.b, layer.name
        kernel, bias, scale = self._weights(layer)
        if isinstance(layer, (LIFConv1D, LIFConv2D)):
            nd = 2 if isinstance(layer, LIFConv2D) else 1
            if len(self.shape) != nd + 1:
                raise _unsupported(layer, f"expected a (C, ...) input of rank {nd + 1}")
            weight = np.transpose(kernel, (nd + 1, nd) + tuple(range(nd)))
            sizes = self.shape[1:]
            pad = _nir_padding(layer.padding, sizes, layer.kernel_size, layer.strides,
                               (1,) * nd, layer)
            out = tuple(sizes) if pad == "same" else tuple(
                _out_size(n, k, s, p)
                for n, k, s, p in zip(sizes, layer.kernel_size, layer.strides, pad))
            cls = nir.Conv2d if nd == 2 else nir.Conv1d
            node = cls(input_shape=tuple(sizes) if nd == 2 else int(sizes[0]),
                       weight=weight.astype(np.float32),
                       stride=tuple(layer.strides) if nd == 2 else int(layer.strides[0]),
                       padding=pad if pad == "same" else (tuple(pad) if nd == 2 else pad[0]),
                       dilation=(1, 1) if nd == 2 else 1, groups=1,
                       bias=bias.astype(np.float32))
            shape = (int(kernel.shape[-1]),) + out
        else:
            if len(self.shape) != 1:
                raise _unsupported(layer, "expected flat features (add a SequenceFlatten)")
            node = nir.Affine(weight=self._dense_weight(kernel), bias=bias.astype(np.float32))
            shape = (int(kernel.shape[-1]),)
        src = b.add(f"{name}_synapse", node, self.src)
        if scale is not None:
            src = b.add(f"{name}_scale", nir.Scale(scale=full(scale, shape)), src)
        sts = hasattr(layer, "sts_spiking")
        if sts:
            if layer.get_mode() != "snn":
                raise _unsupported(layer, "an STS layer in its 'ann' phase is not spiking; "
                                          "set_mode(model, 'snn') first")
            reset, floor, spiking = ("zero" if layer.rest_active() else "none"), None, True
        else:
            reset, floor, spiking = layer.reset, layer.floor, layer.spiking
        beta = np.clip(_np(layer.beta_w), 0.0, 1.0)
        alpha = None if layer.alpha_w is None else np.clip(_np(layer.alpha_w), 0.0, 1.0)
        threshold = (np.maximum(_np(layer.threshold_w), 1e-6)
                     if layer.threshold_w is not None else None)
        self.src = neuron_nodes(b, name, src, shape, dt=self.dt, beta=beta, threshold=threshold,
                                reset=reset, alpha=alpha, floor=floor, spiking=spiking)
        self.shape, self.binary = shape, bool(spiking)
        if not layer.return_sequences:
            self._check_last(layer, last)
            self.readout = layer.readout

    def max_pool(self, layer, size: tuple[int, ...], strides: tuple[int, ...]) -> None:
        import nir

        if not self.binary:
            raise _unsupported(layer, "max-pooling is exported as the OR of 0/1 spikes; its "
                                      "input is not a spiking layer")
        c = self.shape[0]
        if len(self.shape) == 3:
            node = nir.SumPool2d(kernel_size=np.array(size), stride=np.array(strides),
                                 padding=np.array([0, 0]))
        else:  # 1-D: a convolution whose kernel sums each window of its own channel
            # (an identity over channels times ones; not groups=C, which nir's types reject)
            weight = np.eye(c, dtype=np.float32)[:, :, None] * np.ones(size[0], np.float32)
            node = nir.Conv1d(input_shape=int(self.shape[1]), weight=weight,
                              stride=int(strides[0]), padding=0, dilation=1, groups=1,
                              bias=np.zeros(c, np.float32))
        src = self.b.add(f"{layer.name}_sum", node, self.src)
        out = tuple((n - k) // s + 1 for n, k, s in zip(self.shape[1:], size, strides))
        self.shape = (c,) + out
        self.src = self.b.add(layer.name, nir.Threshold(threshold=full(0.5, self.shape)), src)

    def avg_pool(self, layer, size, strides, padding) -> None:
        import nir

        if len(self.shape) != 3:
            raise _unsupported(layer, "expected a (C, H, W) input")
        pads = [0, 0] if padding == "valid" else [
            _same_pads(n, k, s) for n, k, s in zip(self.shape[1:], size, strides)]
        if padding != "valid" and any(p != (0, 0) for p in pads):
            raise _unsupported(layer, "average pooling with 'same' padding (Keras leaves the "
                                      "padding out of the average; NIR's AvgPool2d does not)")
        self.src = self.b.add(layer.name, nir.AvgPool2d(kernel_size=np.array(size),
                                                        stride=np.array(strides),
                                                        padding=np.array([0, 0])), self.src)
        out = tuple((n - k) // s + 1 for n, k, s in zip(self.shape[1:], size, strides))
        self.shape = (self.shape[0],) + out
        self.binary = False

    def flatten(self, name: str) -> None:
        import nir

        if len(self.shape) < 2:
            return
        self.perm = _keras_order(self.shape)
        self.src = self.b.add(name, nir.Flatten(input_type={"input": np.array(self.shape)},
                                                      start_dim=0, end_dim=-1), self.src)
        self.shape = (int(np.prod(self.shape)),)

    def rescale(self, layer) -> None:
        import nir

        offset = np.asarray(layer.offset, np.float64)
        if np.any(offset != 0):
            raise _unsupported(layer, "a Rescaling with an offset")
        self.src = self.b.add(layer.name, nir.Scale(scale=full(layer.scale, self.shape)),
                              self.src)
        self.binary = False

    def s2net(self, layer) -> None:
        """An s2net layer: taps of delayed convolutions -> LI -> Threshold, lateral reset and
        recurrent weights as a recurrent edge (module docstring of :mod:`._export_keras`)."""
        import nir

        from ..layers.s2net import S2NetDense

        b, name, dt = self.b, layer.name, self.dt
        p = layer.dynamics_params()
        beta = float(_np(p.beta))
        if beta >= 1.0:
            raise _unsupported(layer, "beta = 1 leaves no input gain (1 - beta)")
        kernel = _np(layer.kernel)
        c = int(kernel.shape[-1])
        taps = []
        if isinstance(layer, S2NetDense):
            if len(self.shape) != 1:
                raise _unsupported(layer, "expected flat features")
            weight = self._dense_weight(kernel)
            taps.append(b.add(f"{name}_synapse", nir.Linear(weight=weight), self.src))
            shape: tuple[int, ...] = (c,)
        else:
            nd = len(layer.kernel_size) - 1
            if len(self.shape) != nd + 1:
                raise _unsupported(layer, f"expected a (C, ...) input of rank {nd + 1}")
            k_t, d_t = layer.kernel_size[0], layer.dilation_rate[0]
            k_sp, d_sp = layer.kernel_size[1:], layer.dilation_rate[1:]
            sizes = self.shape[1:]
            pad = _nir_padding(layer.padding, sizes, k_sp, (1,) * nd, d_sp, layer)
            out = tuple(n if pad == "same" else _out_size(n, k, 1, pad[i], d)
                        for i, (n, k, d) in enumerate(zip(sizes, k_sp, d_sp)))
            shape = (c,) + out
            cls = nir.Conv2d if nd == 2 else nir.Conv1d
            for j in range(k_t):
                src = self.src
                delay = (k_t - 1 - j) * d_t
                if delay:
                    src = b.add(f"{name}_delay{j}", nir.Delay(delay=full(delay * dt,
                                                                          self.shape)), src)
                w = np.transpose(kernel[j], (nd + 1, nd) + tuple(range(nd)))
                taps.append(b.add(f"{name}_tap{j}", cls(
                    input_shape=tuple(sizes) if nd == 2 else int(sizes[0]),
                    weight=np.ascontiguousarray(w, np.float32),
                    stride=(1, 1) if nd == 2 else 1,
                    padding=pad if pad == "same" else (tuple(pad) if nd == 2 else pad[0]),
                    dilation=tuple(d_sp) if nd == 2 else int(d_sp[0]), groups=1,
                    bias=np.zeros(c, np.float32)), src))
        mem = b.add(f"{name}_mem", nir.LI(tau=full(dt / (1.0 - beta), shape),
                                          r=full(1.0, shape), v_leak=full(0.0, shape)), *taps)
        theta = _np(p.threshold) * (_np(p.norm) + float(p.eps))
        spikes = b.add(name, nir.Threshold(threshold=full(theta, shape),
                                           metadata={META_INCLUSIVE: ">="}), mem)
        # S[n-1] -> membrane: -beta/(1-beta) G (lateral reset) + V (recurrent), per position
        m = -beta / (1.0 - beta) * _np(p.gram)
        if p.recurrent is not None:
            m = m + _np(p.recurrent)
        w_rec = np.ascontiguousarray(m.T, np.float32)              # (post, pre)
        if len(shape) == 1:
            rec = nir.Linear(weight=w_rec)
        else:
            nd = len(shape) - 1
            cls = nir.Conv2d if nd == 2 else nir.Conv1d
            rec = cls(input_shape=tuple(shape[1:]) if nd == 2 else int(shape[1]),
                      weight=w_rec.reshape((c, c) + (1,) * nd),
                      stride=(1, 1) if nd == 2 else 1, padding=(0, 0) if nd == 2 else 0,
                      dilation=(1, 1) if nd == 2 else 1, groups=1, bias=np.zeros(c, np.float32))
        b.add(f"{name}_lateral", rec, spikes)
        b.connect(f"{name}_lateral", mem)
        self.src, self.shape, self.binary = spikes, shape, True

    def s2net_readout(self, layer, last: bool) -> None:
        import nir

        self._check_last(layer, last)
        if len(self.shape) > 1:
            self.flatten(f"{layer.name}_flatten")
        bias = (_np(layer.bias) if layer.bias is not None
                else np.zeros(int(layer.kernel.shape[-1])))
        self.src = self.b.add(layer.name, nir.Affine(weight=self._dense_weight(_np(layer.kernel)),
                                                     bias=bias.astype(np.float32)), self.src)
        self.shape = (int(layer.kernel.shape[-1]),)
        self.readout, self.binary = "mean", False


def keras_graph(model: Any, dt: float, quantized: bool = True) -> tuple[GraphBuilder, str, dict]:
    """Nodes and edges of a Keras spiking model; returns ``(builder, last node, info)``."""
    import nir

    from ..layers.lif import SequenceFlatten, SequenceMaxPool, _LIFBase
    from ..layers.s2net import S2NetReadout, _S2NetSpiking
    from ..layers.time_fold import TimeFolded

    layers = _chain(model)
    in_shape = tuple(int(s) for s in model.inputs[0].shape[2:])   # one step, channels last
    if len(model.inputs[0].shape) < 3:
        raise ValueError("Expected a model over time: inputs (N, T, ...). Received: input shape "
                         f"{tuple(model.inputs[0].shape)}.")
    if layers and type(layers[0]).__name__ == "Reshape":
        target = tuple(int(s) for s in layers[0].target_shape)
        if target[1:] != in_shape + (1,):
            raise _unsupported(layers[0], "only a Reshape adding a channel axis to the input")
        in_shape, layers = in_shape + (1,), layers[1:]
    nir_shape = in_shape if len(in_shape) < 2 else (in_shape[-1],) + in_shape[:-1]
    b = GraphBuilder()
    b.add("input", nir.Input(input_type={"input": np.array(nir_shape)}))
    walk = _Walk(b, dt, quantized)
    walk.shape = nir_shape
    for pos, layer in enumerate(layers):
        last = pos == len(layers) - 1
        inner = layer.layer if isinstance(layer, TimeFolded) else layer
        kind = type(inner).__name__
        if isinstance(layer, _LIFBase):
            walk.lif(layer, last)
        elif isinstance(layer, _S2NetSpiking):
            walk.s2net(layer)
        elif isinstance(layer, S2NetReadout):
            walk.s2net_readout(layer, last)
        elif isinstance(layer, SequenceMaxPool):
            k = layer.pool_size
            walk.max_pool(layer, (k,) * (len(walk.shape) - 1), (k,) * (len(walk.shape) - 1))
        elif isinstance(layer, SequenceFlatten) or kind == "Flatten":
            walk.flatten(layer.name)
        elif kind == "MaxPooling2D":
            walk.max_pool(layer, tuple(inner.pool_size), tuple(inner.strides))
        elif kind == "AveragePooling2D":
            walk.avg_pool(layer, tuple(inner.pool_size), tuple(inner.strides), inner.padding)
        elif kind == "Rescaling":
            walk.rescale(inner)
        elif kind in ("Dropout", "SpatialDropout2D"):
            continue
        else:
            raise _unsupported(layer)
        if getattr(inner, "data_format", "channels_last") != "channels_last":
            raise _unsupported(layer, "only data_format='channels_last'")
    info = {"readout": walk.readout or "none"}
    return b, walk.src, info
