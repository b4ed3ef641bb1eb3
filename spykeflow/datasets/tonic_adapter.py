"""tonic datasets (optional package, GPL-3) as SpykeFlow :class:`LazyDataset` s:
:func:`from_tonic`.

Needs no tonic import: any object with ``__getitem__`` -> ``(events, target)``, ``__len__`` and
tonic's ``sensor_size = (x, y, p)`` works (see :mod:`spykeflow.tonic_plugin`).
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from ..functional import events as events_fn
from ..tonic_plugin import from_tonic_frames, from_tonic_sensor_size
from ._common import object_array, progress_bar
from .lazy import LazyDataset, SampleSource

__all__ = ["from_tonic", "TonicSource"]


class TonicSource(SampleSource):
    """The samples of a tonic dataset in SpykeFlow's convention (see :func:`from_tonic`).

    Attributes
    ----------
    dataset : object
        The wrapped dataset (read one sample at a time, in the process that reads).
    sensor_size : (int, int)
        ``(height, width)`` (``(1, C)`` for 1-D audio datasets).
    """

    sample_shape = None
    sample_dtype = np.dtype(object)

    def __init__(self, dataset: Any) -> None:
        missing = [a for a in ("__getitem__", "__len__", "sensor_size") if not hasattr(dataset, a)]
        if missing:
            raise TypeError(
                "Expected a tonic dataset (__getitem__ returning (events, target), __len__, "
                f"sensor_size (x, y, p)). Received: {type(dataset).__name__} without {missing}."
            )
        self.dataset = dataset
        self.sensor_size = from_tonic_sensor_size(dataset.sensor_size)
        self.name = type(dataset).__name__
        self.split = "train" if getattr(dataset, "train", True) else "test"
        self._labels: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.dataset)

    def sample(self, position: int) -> tuple[np.ndarray, int]:
        """``(events or frames, label)`` of one sample, converted to SpykeFlow's layout."""
        data, target = self.dataset[position]
        data = np.asarray(data)
        if data.dtype.names is None:  # frames, e.g. the dataset's transform is ToFrame
            return from_tonic_frames(data), operator.index(target)
        (events,) = events_fn.check_events(data, f"dataset[{position}]")
        return events, operator.index(target)

    def labels(self) -> np.ndarray:
        """The dataset's ``targets`` when it lists them (tonic's file-based datasets do), else
        the targets of every sample, read once and kept."""
        if self._labels is None:
            targets = getattr(self.dataset, "targets", None)
            if targets is not None and len(targets) == len(self):
                self._labels = np.asarray([operator.index(t) for t in targets], np.int64)
            else:
                self._labels = np.asarray([self.sample(i)[1] for i in range(len(self))],
                                          np.int64)
        return self._labels

    def read(self, positions: np.ndarray, progress: bool | None = None) -> np.ndarray:
        return object_array([self.sample(int(p))[0] for p in
                             progress_bar(positions, progress, desc=f"{self.name} {self.split}")])


def from_tonic(dataset: Any) -> LazyDataset:
    """Wrap a tonic dataset (or any object with ``__getitem__`` -> ``(events, target)``,
    ``__len__`` and tonic's ``sensor_size = (x, y, p)``) as a :class:`LazyDataset`.

    Each sample is ``(events, label)``: the events validated in the convention of
    :mod:`spykeflow.functional.events` (tonic's dtypes and field order are kept), or, if the
    dataset's own transform returns frames (``ToFrame``), the frames converted by
    :func:`spykeflow.tonic_plugin.from_tonic_frames`. ``.sensor_size`` is SpykeFlow's
    ``(height, width)``, ready for ``EventEncoder(sensor_size=...)``; views, ``read()``, the
    Keras adapters and :mod:`spykeflow.dask` work as for :func:`spykeflow.datasets.open`.

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
    >>> data.sensor_size, int(data[0][1])
    ((2, 3), 7)
    >>> from spykeflow.encoders import EventEncoder
    >>> EventEncoder(data.sensor_size, 1, mode="count").transform(data.read()[0]).sum()
    np.int64(2)
    """
    return LazyDataset(TonicSource(dataset))
