"""Monitors: the bookkeeping around STDP training, called by the training loop.

:meth:`spykeflow.Network.fit` trains each convolutional layer in chunks of images and calls
its monitors around them, in order:

``on_layer_begin(state)``
    once before the layer's first chunk (also when training resumes from a checkpoint);
``next_stop(state) -> int | None``
    before each chunk: the image count (over all epochs) at which the monitor needs the loop
    to pause next, e.g. a snapshot or checkpoint boundary; the chunk ends there;
``on_chunk(state) -> bool | None``
    after each chunk; returning True stops the layer's training (``stopped_early``).

``state`` is the :class:`TrainingState` of the layer. The network always runs
:class:`TrainingHistory` and :class:`WeightSnapshots` (they fill ``Network.history_``), then the
monitors given in ``Network(monitors=[...])``, then :class:`Checkpoint` when
``checkpoint_path`` is set. A given monitor is a :class:`Monitor` (e.g. :class:`ConvergenceStop`)
or any callable ``monitor(network, event) -> bool | None`` with ::

    event = {"layer": i, "images_done": k, "images_total": n, "convergence": C_l}

An exception raised by a monitor aborts ``fit``; the last checkpoint stays valid, so
``fit(..., resume=True)`` continues from it.
"""

from __future__ import annotations

import dataclasses
import pathlib
from typing import Any

import numpy as np

from . import io
from .functional.convergence import convergence, temporal_difference

__all__ = ["Monitor", "TrainingState", "TrainingHistory", "WeightSnapshots", "ConvergenceStop",
           "Checkpoint", "as_monitor"]


@dataclasses.dataclass
class TrainingState:
    """What the monitors of a training layer see (and the loop's state for checkpoints).

    Attributes
    ----------
    network : Network
    layer_index : int
    layers, weights : list
        The network's layers and current weights (``weights[layer_index]`` is the kernel being
        trained, ``(k, k, C_in, filters)``, updated after every chunk).
    history : dict
        ``Network.history_`` being filled (``history["layers"][layer_index]`` for this layer).
    images_per_epoch, images_total, images_done : int
    resumed : bool
        Training of this layer continues from a checkpoint.
    chunk : dict or None
        The last chunk: ``start`` (images done before it), ``end_position`` (its end within
        the epoch), ``output_width`` (winner positions are flat ``row * output_width + col``),
        and ``win_pos``, ``win_step`` ``(m, filters)`` int32 and ``spikes`` ``(m,)`` from
        :func:`spykeflow.stdp.engine.train_chunk`.
    loop : dict
        ``counts``, ``a_state``, ``global_step``: the compiled loop's state between chunks.
    stop : bool
        A monitor asked to stop this layer.
    """

    network: Any
    layer_index: int
    layers: list
    weights: list
    history: dict
    images_per_epoch: int
    images_total: int
    images_done: int
    resumed: bool
    loop: dict
    chunk: dict | None = None
    stop: bool = False

    @property
    def layer(self):
        return self.layers[self.layer_index]

    @property
    def layer_history(self) -> dict:
        return self.history["layers"][self.layer_index]

    @property
    def kernel(self) -> np.ndarray:
        return self.weights[self.layer_index]

    def event(self) -> dict:
        """The event dict handed to callable monitors."""
        return {"layer": self.layer_index, "images_done": self.images_done,
                "images_total": self.images_total, "convergence": convergence(self.kernel)}


class Monitor:
    """Base class: override the hooks you need (see the module docstring)."""

    def on_layer_begin(self, state: TrainingState) -> None:
        """Called once before the layer's first chunk."""

    def next_stop(self, state: TrainingState) -> int | None:
        """The next image count (> ``state.images_done``) at which to pause, or None."""
        return None

    def on_chunk(self, state: TrainingState) -> bool | None:
        """Called after every chunk; True stops the layer."""
        return None


class _Callback(Monitor):
    """A plain callable ``monitor(network, event)`` as a :class:`Monitor`."""

    def __init__(self, fn):
        self.fn = fn

    def on_chunk(self, state):
        return bool(self.fn(state.network, state.event()))


def as_monitor(monitor) -> Monitor:
    """``monitor`` itself if it is a :class:`Monitor`, else the callable wrapped as one."""
    if isinstance(monitor, Monitor):
        return monitor
    if not callable(monitor):
        raise TypeError("Expected monitors to be Monitor objects or callables "
                        f"monitor(network, event). Received: {monitor!r}.")
    return _Callback(monitor)


def empty_layer_history(filters: int) -> dict:
    """A conv layer's entry of ``Network.history_`` before training."""
    return {"snapshot_images": [], "snapshots": [], "convergence": [], "temporal_difference": [],
            "updates_per_map": [0] * filters, "winners_per_image": [], "spikes_per_image": [],
            "winners": [], "images_trained": 0, "stopped_early": False}


class TrainingHistory(Monitor):
    """Records the winners, updates per map and spikes per training image of each chunk:
    ``winners`` ((K, 5) int32 rows ``[image, map, row, col, step]``), ``updates_per_map``,
    ``winners_per_image``, ``spikes_per_image``, ``images_trained``."""

    def on_chunk(self, state):
        h, chunk = state.layer_history, state.chunk
        wp, ws = chunk["win_pos"], chunk["win_step"]
        has = wp >= 0
        wo = chunk["output_width"]
        image, filt = np.nonzero(has)
        rows = np.stack([chunk["start"] + image, filt, wp[image, filt] // wo,
                         wp[image, filt] % wo, ws[image, filt]], axis=1).astype(np.int32)
        h["winners"].append(rows)
        h["updates_per_map"] = (np.asarray(h["updates_per_map"]) + has.sum(axis=0)).tolist()
        h["winners_per_image"].extend(has.sum(axis=1).tolist())
        h["spikes_per_image"].extend(chunk["spikes"].tolist())
        h["images_trained"] = state.images_done
        return None


def snapshot(history: dict, weights, images: int) -> None:
    """Append a weight snapshot and its C_l (and TD to the previous one) to a layer history."""
    w = np.array(weights, np.float32)
    if history["snapshots"]:
        pair = np.stack([history["snapshots"][-1], w])
        history["temporal_difference"].append(float(temporal_difference(pair)[0]))
    history["snapshots"].append(w)
    history["snapshot_images"].append(int(images))
    history["convergence"].append(convergence(w))


class WeightSnapshots(Monitor):
    """Weight snapshots on the layer's ``Training.snapshot_schedule``, with C_l and TD
    (docs/original/diagnostics.md).

    ``"images"``: the initial weights, then a copy after every ``snapshot_every`` images of
    each epoch. ``"original_steps"``: the original copied the weights after per-epoch step t
    with ``t mod (T * snapshot_every - 1) == 0``; the copy is taken at the end of the image
    holding that step (the original's was mid-image; the difference is at most that image's
    remaining updates).
    """

    def __init__(self, time_steps: int):
        self.time_steps = int(time_steps)

    def _ends(self, state):
        """Positions within the epoch after which a snapshot is taken."""
        train, n = state.layer.training, state.images_per_epoch
        if train.snapshot_schedule == "images":
            return np.arange(train.snapshot_every, n + 1, train.snapshot_every)
        return original_snapshot_ends(n, self.time_steps, train.snapshot_every)

    def on_layer_begin(self, state):
        self.ends = self._ends(state)
        if not state.resumed and state.layer.training.snapshot_schedule == "images":
            snapshot(state.layer_history, state.kernel, 0)

    def next_stop(self, state):
        epoch, pos = divmod(state.images_done, state.images_per_epoch)
        later = self.ends[self.ends > pos]
        return epoch * state.images_per_epoch + int(later[0]) if later.size else None

    def on_chunk(self, state):
        if np.isin(state.chunk["end_position"], self.ends):
            snapshot(state.layer_history, state.kernel, state.images_done)
        return None


def original_snapshot_ends(n: int, time_steps: int, every: int) -> np.ndarray:
    """Positions within an epoch of ``n`` images after which the ``"original_steps"``
    snapshots are taken.

    >>> ends = original_snapshot_ends(6000, 12, 200)
    >>> ends[:3].tolist(), len(ends)
    ([1, 200, 400], 31)
    """
    period = time_steps * every - 1
    steps = np.arange(0, n * time_steps, period)
    return np.unique(steps // time_steps + 1)


class ConvergenceStop(Monitor):
    """Stop a layer's training once C_l < ``below`` after a chunk (paper eq. 22; the
    original's 0.01-0.02 rule was judged by eye). ``layers``: indices to watch (None: all).

    >>> ConvergenceStop(0.01).stops(layer_index=0, convergence_value=0.005)
    True
    """

    def __init__(self, below: float, layers=None):
        self.below = float(below)
        self.layers = None if layers is None else set(layers)

    def stops(self, layer_index: int, convergence_value: float) -> bool:
        """Whether a layer at this C_l is stopped."""
        if self.layers is not None and layer_index not in self.layers:
            return False
        return bool(convergence_value < self.below)

    def on_chunk(self, state):
        return self.stops(state.layer_index, convergence(state.kernel))


class Checkpoint(Monitor):
    """Write the training state to ``path/state`` every ``every`` images and when a layer
    ends, atomically (:func:`spykeflow.io.save_folder`); :meth:`load` reads it back.

    Runs last, so a checkpoint written when a monitor stops the layer records the stop.
    """

    KIND = "spykeflow.Network.checkpoint"
    VERSION = 1

    def __init__(self, path, every: int, pack):
        self.folder = pathlib.Path(path) / "state"
        self.every = int(every)
        self.pack = pack

    def next_stop(self, state):
        return (state.images_done // self.every + 1) * self.every

    def on_chunk(self, state):
        done = state.images_done
        finished = done == state.images_total or state.stop
        if done % self.every and not finished:
            return None
        metadata, arrays = self.pack(state.layers, state.weights, state.history)
        if finished:
            metadata["cursor"], metadata["loop"] = {"layer": state.layer_index + 1, "done": 0}, None
        else:
            metadata["cursor"] = {"layer": state.layer_index, "done": done}
            metadata["loop"] = {"a_state": float(state.loop["a_state"]),
                                "global_step": int(state.loop["global_step"])}
            arrays["loop_counts"] = np.asarray(state.loop["counts"], np.float32)
        io.save_folder(self.folder, self.KIND, self.VERSION, metadata, arrays)
        return None

    @classmethod
    def load(cls, path):
        """``(metadata, arrays)`` of the checkpoint in ``path``, or None if there is none."""
        folder = pathlib.Path(path) / "state"
        if not (folder / io.MANIFEST).is_file():
            return None
        return io.load_folder(folder, cls.KIND, cls.VERSION)
