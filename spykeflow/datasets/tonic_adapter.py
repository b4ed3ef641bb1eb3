"""tonic datasets (optional package, GPL-3) as SpykeFlow samples: :func:`from_tonic`.

Needs no tonic import: any object with ``__getitem__`` -> ``(events, target)``, ``__len__`` and
tonic's ``sensor_size = (x, y, p)`` works (see :mod:`spykeflow.tonic_plugin`).
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._validation import check_bool
from ..functional import events as events_fn
from ..tonic_plugin import from_tonic_frames, from_tonic_sensor_size

__all__ = ["from_tonic", "TonicEvents"]


def _label(target: Any) -> Any:
    try:
        return operator.index(target)
    except TypeError:
        return target


class TonicEvents(Sequence):
    """A tonic dataset seen as SpykeFlow samples ``(events, label)``; see :func:`from_tonic`.

    Attributes
    ----------
    dataset : object
        The wrapped dataset.
    sensor_size : (int, int)
        ``(height, width)`` (``(1, C)`` for 1-D audio datasets).
    """

    def __init__(self, dataset: Any) -> None:
        missing = [a for a in ("__getitem__", "__len__", "sensor_size") if not hasattr(dataset, a)]
        if missing:
            raise TypeError(
                "Expected a tonic dataset (__getitem__ returning (events, target), __len__, "
                f"sensor_size (x, y, p)). Received: {type(dataset).__name__} without {missing}."
            )
        self.dataset = dataset
        self.sensor_size = from_tonic_sensor_size(dataset.sensor_size)

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        data, target = self.dataset[index]
        data = np.asarray(data)
        if data.dtype.names is None:  # frames, e.g. the dataset's transform is ToFrame
            return from_tonic_frames(data), _label(target)
        (events,) = events_fn.check_events(data, f"dataset[{index}]")
        return events, _label(target)

    def arrays(self, indices: Any = None, progress: Any = False) -> tuple[np.ndarray, np.ndarray]:
        """Samples as ``(samples, labels)`` like :func:`spykeflow.datasets.load`: an object
        array of recordings (ready for :class:`spykeflow.EventEncoder`) and an array of labels.

        Parameters
        ----------
        indices : sequence of int, optional
            Which samples (default all).
        progress : bool
            Show a tqdm progress bar.
        """
        check_bool(progress, "progress")
        order: Any = range(len(self)) if indices is None else [int(i) for i in indices]
        if progress:
            from tqdm.auto import tqdm

            order = tqdm(order, desc="tonic dataset", unit="sample")
        pairs = [self[i] for i in order]
        samples = np.empty(len(pairs), dtype=object)
        for j, (events, _) in enumerate(pairs):
            samples[j] = events
        return samples, np.asarray([label for _, label in pairs])


def from_tonic(dataset: Any) -> TonicEvents:
    """Wrap a tonic dataset (or any object with ``__getitem__`` -> ``(events, target)``,
    ``__len__`` and tonic's ``sensor_size = (x, y, p)``) as SpykeFlow samples.

    Each sample is ``(events, label)``: the events validated in the convention of
    :mod:`spykeflow.functional.events` (tonic's dtypes and field order are kept), or, if the
    dataset's own transform returns frames (``ToFrame``), the frames converted by
    :func:`spykeflow.tonic_plugin.from_tonic_frames`. ``.sensor_size`` is SpykeFlow's
    ``(height, width)``, ready for ``EventEncoder(sensor_size=...)``; ``.arrays()`` gives
    ``(samples, labels)`` arrays.

    Examples
    --------
    >>> class Toy:                          # behaves like a tonic dataset
    ...     sensor_size = (3, 2, 2)         # tonic: x (width), y (height), p
    ...     def __len__(self): return 1
    ...     def __getitem__(self, i):
    ...         ev = np.zeros(2, dtype=[("x", int), ("y", int), ("t", int), ("p", int)])
    ...         ev["x"], ev["t"], ev["p"] = [0, 2], [0, 10], [1, 0]
    ...         return ev, 7
    >>> data = from_tonic(Toy())
    >>> data.sensor_size, data[0][1]
    ((2, 3), 7)
    >>> from spykeflow.encoders import EventEncoder
    >>> EventEncoder(data.sensor_size, 1, mode="count").transform(data.arrays()[0]).sum()
    np.int64(2)
    """
    return TonicEvents(dataset)
