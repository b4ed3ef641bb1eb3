"""The GPU path of :meth:`spykeflow.Network.transform`: the network's layers as one compiled
``keras.ops`` program over dense batches (:mod:`spykeflow.functional.dense_pass`).

A *plan* is the static part of the program (layer kinds and options, the feature sets); it
keys a cache of compiled functions, so a network compiles once per plan, backend and batch
shape. Batches are padded to ``batch_size`` samples so that XLA sees one shape.
"""

from __future__ import annotations

import contextlib
import functools
from typing import Any

import numpy as np

from ._validation import check_spikes
from .functional.feature_pass import flush_subnormal
from .stdp.layers import STDPConv

__all__ = ["gpu_device", "plan", "transform_into"]


def gpu_device() -> str | None:
    """The Keras device name of the first GPU of the active backend, or None."""
    from . import _backend

    return "gpu:0" if _backend.gpu_visible() else None


def plan(layers, sets) -> tuple:
    """``(layer specs, sets, last layer run)``, hashable: what the compiled program does."""
    upto = max(idx - 1 if values == "max_potential" else idx for idx, values in sets)
    specs: list[tuple] = []
    conv_i = 0
    for i, layer in enumerate(layers[:upto + 1] if upto >= 0 else []):
        if isinstance(layer, STDPConv):
            conv_i = i
            specs.append(("conv", layer.padding, layer.neuron.strict_threshold,
                          layer.neuron.lateral_inhibition))
        else:
            specs.append(("pool", layer.padding, layer.resolved_mode(i == len(layers) - 1),
                          layer.lateral_inhibition, layer.size, layer.stride,
                          layers[conv_i].neuron.strict_threshold, conv_i))
    mp = tuple((idx, layers[idx].padding) for idx, values in sets if values == "max_potential")
    return tuple(specs), tuple(sets), mp


@functools.lru_cache(maxsize=32)
def _program(backend: str, the_plan: tuple, compiled: bool = True):
    from . import _backend
    from .functional import dense_pass as dp

    specs, sets, mp_pads = the_plan
    mp_pad = dict(mp_pads)

    def forward(x, weights, thetas):
        """x (N, T, H, W, C) bool; weights / thetas: dicts by conv layer index."""
        kept: dict[int, Any] = {-1: x}
        s, v = x, None
        for i, spec in enumerate(specs):
            if spec[0] == "conv":
                _, padding, strict, inhibition = spec
                s, v = dp.conv_layer(dp.pad(s, padding), weights[i], thetas[i], strict,
                                     inhibition)
            else:
                _, padding, mode, lateral, size, stride, strict, conv_i = spec
                s, v = dp.pool_layer(dp.pad(s, padding), dp.pad(v, padding), thetas[conv_i],
                                     mode, lateral, size, stride, strict)
            kept[i] = s
        out = []
        for idx, values in sets:
            if values == "max_potential":
                out.append(dp.final_potentials(dp.pad(kept[idx - 1], mp_pad[idx]),
                                               weights[idx]))
            else:
                out.append(dp.features(kept[idx], values))
        return tuple(out)

    return _backend.jit(forward) if compiled else forward


def transform_into(net, spikes, sets, out, device_name, compiled=True) -> None:
    """Fill ``out`` (N, F) with the features :meth:`Network.transform` returns, computed by
    the dense ``keras.ops`` program on ``device_name`` (a Keras device such as ``"gpu:0"``;
    None: the backend's default placement). ``compiled=False`` runs it op by op (no XLA
    compilation: for checks on small batches)."""
    import keras
    from keras import ops

    from . import _backend

    layers = net.layers_
    the_plan = plan(layers, sets)
    program = _program(_backend.name(), the_plan, bool(compiled))
    n_run = len(the_plan[0])
    convs = sorted({i for i in range(n_run) if the_plan[0][i][0] == "conv"}
                   | {idx for idx, _ in the_plan[2]})
    widths, _ = net._set_layouts(sets)
    n = spikes.shape[0]
    bs = min(int(net.batch_size), n)
    scope = keras.device(device_name) if device_name else contextlib.nullcontext()
    with scope:
        weights = {i: ops.convert_to_tensor(flush_subnormal(net.weights_[i])) for i in convs}
        for start in range(0, n, bs):
            batch = check_spikes(spikes[start:start + bs], ndim=5)
            m = batch.shape[0]
            thetas = {i: net._thresholds(i, layers[i], m, start) for i in convs
                      if i < n_run}
            if m < bs:               # one shape for the compiled program
                batch = np.concatenate([batch, np.zeros((bs - m,) + batch.shape[1:], bool)])
                thetas = {i: np.concatenate([th, np.ones(bs - m, np.float32)])
                          for i, th in thetas.items()}
            result = program(ops.convert_to_tensor(batch),
                             weights, {i: ops.convert_to_tensor(th) for i, th in thetas.items()})
            col = 0
            for part, width in zip(result, widths):
                out[start:start + m, col:col + width] = ops.convert_to_numpy(part)[:m]
                col += width
