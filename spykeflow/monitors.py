"""Training monitors for :class:`spykeflow.Network` (callback protocol; no printing).

The network itself records everything in ``history_`` (weight snapshots every N images, C_l
and TD per layer, STDP updates per map, winners per image, spikes per image). A monitor is any
callable ``monitor(network, event) -> bool | None`` passed in ``Network(monitors=[...])``; it is
called after every chunk of training samples with ::

    event = {"layer": i, "images_done": k, "images_total": n, "convergence": C_l}

Returning True stops the current layer's training (recorded as ``stopped_early``). Raising an
exception aborts ``fit`` (the last checkpoint stays valid, so ``fit(..., resume=True)``
continues from it).
"""

from __future__ import annotations

import numpy as np

from .functional.stdp import convergence, temporal_difference

__all__ = ["ConvergenceStop", "Recorder", "convergence", "temporal_difference",
           "convergence_curves", "spikes_per_map_per_class"]


class ConvergenceStop:
    """Stop a layer's training once C_l < ``below`` (paper eq. 22; the original's 0.01-0.02
    rule was only checked by eye). ``layers``: indices to watch (None: all).

    >>> ConvergenceStop(0.01)(None, {"layer": 0, "convergence": 0.005})
    True
    """

    def __init__(self, below, layers=None):
        self.below = float(below)
        self.layers = None if layers is None else set(layers)

    def __call__(self, network, event):
        if self.layers is not None and event["layer"] not in self.layers:
            return False
        return bool(event["convergence"] < self.below)


class Recorder:
    """Keep every event (e.g. C_l after every chunk, finer than the snapshots).

    >>> r = Recorder()
    >>> r(None, {"layer": 0, "images_done": 10, "convergence": 0.1})
    False
    >>> r.events[0]["images_done"]
    10
    """

    def __init__(self):
        self.events = []

    def __call__(self, network, event):
        self.events.append(dict(event))
        return False


def convergence_curves(history, layer):
    """``(images, C_l, TD)`` arrays of conv layer ``layer`` from ``Network.history_``.
    TD has one entry fewer (between consecutive snapshots)."""
    h = history["layers"][layer]
    if h is None:
        raise ValueError(f"Layer {layer} is not a conv layer (no history).")
    return (np.asarray(h["snapshot_images"]), np.asarray(h["convergence"]),
            np.asarray(h["temporal_difference"]))


def spikes_per_map_per_class(network, spikes, y, layer=-1):
    """Spikes per map per class of ``layer`` in inference, in label order (bug B2 avoided):
    dict with ``classes``, raw ``counts`` (K, C) and ``per_image`` (divided by class size)."""
    s = network.spike_statistics(spikes, y, layer=layer)
    return {"classes": s["classes"], "counts": s["spikes_per_map_per_class"],
            "per_image": s["spikes_per_map_per_class_normalised"]}
