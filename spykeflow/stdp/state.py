"""A trained layer stack as arrays and JSON metadata: what :meth:`spykeflow.Network.save` and
the training checkpoints (:class:`spykeflow.monitors.Checkpoint`) write with
:func:`spykeflow.io.save_folder`.

Arrays: ``weights_<i>`` (learned kernels), ``init_weights_<i>`` (weights given to a layer),
``snapshots_<i>`` and ``winners_<i>`` (history) per conv layer ``i``. Metadata: the network's
parameters, each layer's ``kind`` and config, and the rest of the history.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np

from .. import io
from .layers import SpikePool, STDPConv

__all__ = ["pack", "unpack", "fingerprint"]

_KINDS: dict[str, type[STDPConv] | type[SpikePool]] = {"conv": STDPConv, "pool": SpikePool}


def _jsonable(obj):
    return json.loads(json.dumps(obj, default=io._json_default))


def pack(params: dict, layers, weights, history) -> tuple[dict, dict]:
    """``(metadata, arrays)`` of a network's parameters, layers, weights and history."""
    arrays = {}
    metadata = {"params": _jsonable(params), "layers": [], "history": {"layers": []}}
    for i, layer in enumerate(layers):
        metadata["layers"].append({"kind": layer.kind, "config": layer.get_config()})
        if weights[i] is not None:
            arrays[f"weights_{i}"] = np.asarray(weights[i], np.float32)
        if getattr(layer, "weights", None) is not None:
            arrays[f"init_weights_{i}"] = layer.weights
        h = history["layers"][i]
        if h is None:
            metadata["history"]["layers"].append(None)
            continue
        metadata["history"]["layers"].append(
            _jsonable({k: v for k, v in h.items() if k not in ("snapshots", "winners")}))
        if h["snapshots"]:
            arrays[f"snapshots_{i}"] = np.stack(h["snapshots"])
        rows = [np.asarray(r, np.int32).reshape(-1, 5) for r in h["winners"]]
        arrays[f"winners_{i}"] = np.concatenate(rows) if rows else np.zeros((0, 5), np.int32)
    return metadata, arrays


def unpack(metadata: dict, arrays: dict) -> tuple[list, list, dict]:
    """``(layers, weights, history)`` of :func:`pack`'s output."""
    layers, weights, histories = [], [], []
    for i, spec in enumerate(metadata["layers"]):
        layers.append(_KINDS[spec["kind"]].from_config(spec["config"],
                                                      weights=arrays.get(f"init_weights_{i}")))
        weights.append(arrays.get(f"weights_{i}"))
        h = metadata["history"]["layers"][i]
        if h is not None:
            h = dict(h)
            snaps = arrays.get(f"snapshots_{i}")
            h["snapshots"] = [] if snaps is None else list(snaps)
            h["winners"] = [arrays[f"winners_{i}"]]
        histories.append(h)
    return layers, weights, {"layers": histories}


def fingerprint(params: dict, layers) -> dict:
    """What must be equal for a checkpoint to continue a training run: the parameters that
    change results and every layer's config and initial weights."""
    return _jsonable({
        "params": params,
        "layers": [{"kind": layer.kind, "config": layer.get_config(),
                    "weights_sha": None if getattr(layer, "weights", None) is None
                    else hashlib.sha256(np.ascontiguousarray(layer.weights).tobytes()).hexdigest()}
                   for layer in layers]})
