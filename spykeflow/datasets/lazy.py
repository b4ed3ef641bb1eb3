"""Lazy datasets: :func:`spykeflow.datasets.open` returns a :class:`LazyDataset` that indexes a
dataset's files without reading the samples.

A :class:`LazyDataset` is a *source* (one per file format, defined next to that format's
reader: IDX files, event files, WAV files, images, HDF5 sequences, the embedded digits,
generated sequences) plus the positions of the samples it shows. Indexing with a slice or an
integer array gives another view of the same source (nothing is read); ``read()`` reads the
samples of the view, ``ds[i]`` one sample. ``load(name, ...)`` is ``open(name, ...).read()``.

Pickling keeps only paths, options and positions (a range view pickles as three numbers), never
an open file or the data, so a view is cheap to send to another process (Dask, multiprocessing
workers of a Keras ``PyDataset``); file handles are opened in the process that reads.
"""

from __future__ import annotations

import math
import os
import pathlib
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from .._validation import check_bool, check_int, is_int
from ._common import object_array, progress_bar

__all__ = ["LazyDataset", "SampleSource", "FileSource"]

#: Samples per internal read when iterating (a few MB of images).
_ITER_CHUNK = 1024


class SampleSource:
    """The format-specific part of a :class:`LazyDataset`: how many samples, their labels, and
    how to read the samples at some positions.

    Subclasses set ``name``, ``split``, ``sample_shape`` (tuple, or None when samples differ in
    size) and ``sample_dtype`` and implement ``__len__``, :meth:`labels` and :meth:`read`. They
    must pickle small: paths and options, no open files and no sample data.
    """

    name: str
    split: str
    sample_shape: tuple[int, ...] | None
    sample_dtype: np.dtype
    #: ``(height, width)`` of an event sensor (event datasets), else None.
    sensor_size: tuple[int, int] | None = None

    def __len__(self) -> int:
        raise NotImplementedError

    def labels(self) -> np.ndarray:
        """int64 labels of all samples of the source, in order."""
        raise NotImplementedError

    def read(self, positions: np.ndarray, progress: bool | None = None) -> np.ndarray:
        """The samples at ``positions`` (int64, in range, any order, repeats allowed): a
        stacked array when ``sample_shape`` is set, else a 1-D object array."""
        raise NotImplementedError


class FileSource(SampleSource):
    """A source with one file per sample (events, WAV, images, HDF5): ``files`` are paths
    relative to ``folder`` and ``reader(path)`` (a picklable function, e.g. a module-level
    function or a ``functools.partial`` of one) decodes one. Labels are known from the index
    (a table, folder or file names), so they cost nothing; files are read one at a time."""

    def __init__(self, name: str, split: str, folder: Any, files: list[str],
                 labels: Any, reader: Callable[[pathlib.Path], np.ndarray], sample_dtype: Any,
                 sample_shape: tuple[int, ...] | None = None,
                 sensor_size: tuple[int, int] | None = None) -> None:
        self.name = name
        self.split = split
        self.folder = os.fspath(folder)
        self.files = list(files)
        self._labels = np.asarray(labels, dtype=np.int64)
        self.reader = reader
        self.sample_dtype = np.dtype(sample_dtype)
        self.sample_shape = sample_shape
        self.sensor_size = sensor_size

    def __len__(self) -> int:
        return len(self.files)

    def labels(self) -> np.ndarray:
        return self._labels

    def path(self, position: int) -> pathlib.Path:
        """Full path of the file of sample ``position``."""
        return pathlib.Path(self.folder, self.files[position])

    def read_file(self, position: int) -> np.ndarray:
        """Decode the file of sample ``position``."""
        return self.reader(self.path(position))

    def read(self, positions: np.ndarray, progress: bool | None = None) -> np.ndarray:
        items = [self.read_file(int(p))
                 for p in progress_bar(positions, progress, desc=f"{self.name} {self.split}")]
        if self.sample_shape is None:
            return object_array(items)
        out = np.empty((len(items), *self.sample_shape), dtype=self.sample_dtype)
        for i, item in enumerate(items):
            out[i] = item
        return out


class LazyDataset:
    """A dataset whose samples are read on demand (see :func:`spykeflow.datasets.open`).

    Attributes
    ----------
    name, split : str
        The canonical dataset name and the split.
    sample_shape : tuple or None
        Shape of one sample, or None when samples differ in size (events, waveforms, Caltech
        images without ``size``).
    sample_dtype : numpy.dtype
        dtype of a sample (``EVENT_DTYPE`` for event recordings).

    Indexing: ``ds[i]`` (int, negative counts from the end) reads one ``(sample, label)``;
    ``ds[a:b:c]`` and ``ds[int_array]`` (or a boolean mask of length ``len(ds)``) return a view
    that reads nothing until :meth:`read`. Views are small to pickle.

    Examples
    --------
    >>> import spykeflow.datasets as sd
    >>> ds = sd.open("digits", split="test")
    >>> len(ds), ds.sample_shape, ds.sample_dtype
    (359, (28, 28), dtype('uint8'))
    >>> x, y = ds[10:20].read()
    >>> x.shape, y.dtype
    ((10, 28, 28), dtype('int64'))
    >>> image, label = ds[-1]
    >>> image.shape, bool(label == ds.labels[-1])
    ((28, 28), True)
    """

    def __init__(self, source: SampleSource, index: range | np.ndarray | None = None) -> None:
        self._source = source
        self._index: range | np.ndarray = range(len(source)) if index is None else index

    # ------------------------------------------------------------------------ description
    @property
    def name(self) -> str:
        return self._source.name

    @property
    def split(self) -> str:
        return self._source.split

    @property
    def sample_shape(self) -> tuple[int, ...] | None:
        return self._source.sample_shape

    @property
    def sample_dtype(self) -> np.dtype:
        return self._source.sample_dtype

    @property
    def source(self) -> SampleSource:
        """The ``SampleSource`` this view reads from (shared by all views of it)."""
        return self._source

    @property
    def sensor_size(self) -> tuple[int, int] | None:
        """``(height, width)`` of the event sensor for event datasets (``EventEncoder``'s
        ``sensor_size``), else None."""
        return self._source.sensor_size

    @property
    def positions(self) -> np.ndarray:
        """int64 positions of this view's samples in the whole split."""
        if isinstance(self._index, range):
            return np.arange(self._index.start, self._index.stop, self._index.step,
                             dtype=np.int64)
        return self._index

    @property
    def labels(self) -> np.ndarray:
        """int64 labels of the view (from the index or the label file; samples are not read)."""
        labels = self._source.labels()
        if isinstance(self._index, range):
            return labels[self._index.start:self._index.stop:self._index.step]
        return labels[self._index]

    def __len__(self) -> int:
        return len(self._index)

    def __repr__(self) -> str:
        shape = "varying" if self.sample_shape is None else self.sample_shape
        return (f"LazyDataset(name={self.name!r}, split={self.split!r}, n={len(self)}, "
                f"sample_shape={shape}, sample_dtype={self.sample_dtype})")

    # ------------------------------------------------------------------------ indexing
    def __getitem__(self, key: Any) -> Any:
        if is_int(key):
            n = len(self)
            if not -n <= key < n:
                raise IndexError(
                    f"Expected an index in [-{n}, {n}) for a dataset of {n} samples. "
                    f"Received: index={key}."
                )
            position = int(self._index[int(key)])
            sample = self._source.read(np.array([position], dtype=np.int64))[0]
            return sample, self._source.labels()[position]
        if isinstance(key, slice):  # a range stays a range (pickles as three numbers)
            return LazyDataset(self._source, self._index[key])
        return LazyDataset(self._source, self.positions[self._check_array_key(key)])

    def _check_array_key(self, key: Any) -> np.ndarray:
        if isinstance(key, (str, bytes, float)) or key is None:
            arr = None
        else:
            try:
                arr = np.asarray(key)
            except (TypeError, ValueError):
                arr = None
        n = len(self)
        if arr is not None and arr.dtype == bool and arr.shape == (n,):
            return np.flatnonzero(arr)
        if arr is None or arr.ndim != 1 or not (np.issubdtype(arr.dtype, np.integer)
                                                or arr.size == 0):
            raise TypeError(
                "Expected an int, a slice, a 1-D array of ints or a boolean mask of length "
                f"{n} as index. Received: {key!r} of type {type(key).__name__}."
            )
        arr = arr.astype(np.int64)
        if arr.size and (arr.min() < -n or arr.max() >= n):
            bad = int(arr[(arr < -n) | (arr >= n)][0])
            raise IndexError(
                f"Expected indices in [-{n}, {n}) for a dataset of {n} samples. "
                f"Received: index {bad}."
            )
        return np.where(arr < 0, arr + n, arr)

    # ------------------------------------------------------------------------ reading
    def read(self, progress: bool | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Read the view's samples: ``(samples, labels)`` exactly as
        :func:`spykeflow.datasets.load` returns them for these samples.

        Parameters
        ----------
        progress : bool, optional
            Progress bar for the formats with one file per sample (default ``None``: only on
            an interactive terminal).
        """
        return self._source.read(self.positions, progress), self.labels

    def __iter__(self) -> Iterator[tuple[Any, Any]]:
        """``(sample, label)`` pairs in order, read in chunks of 1,024 samples."""
        for start in range(0, len(self), _ITER_CHUNK):
            x, y = self[start:start + _ITER_CHUNK].read(progress=False)
            yield from zip(x, y)

    def batch(self, k: int, batch_size: int, transform: Callable | None = None,
              order: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The ``k``-th batch ``(x, y)`` of ``batch_size`` samples (the last one may be
        shorter), in ``order`` (a permutation of ``range(len(self))``, default in order).
        ``x`` is ``transform(samples)`` or, without ``transform``, the samples stacked."""
        n_batches = math.ceil(len(self) / batch_size)
        if not is_int(k) or not 0 <= k < n_batches:
            raise IndexError(
                f"Expected a batch index in [0, {n_batches}) ({len(self)} samples in batches "
                f"of {batch_size}). Received: {k!r}."
            )
        picked = slice(k * batch_size, (k + 1) * batch_size)
        view = self[picked] if order is None else self[order[picked]]
        samples, labels = view.read(progress=False)
        return (stack_batch(samples) if transform is None else transform(samples)), labels

    def to_pydataset(self, batch_size: int, transform: Callable | None = None,
                     shuffle: bool = False, seed: int = 0,
                     **pydataset_kwargs: Any) -> Any:
        """A ``keras.utils.PyDataset`` of ``(x, y)`` batches read on demand.

        Parameters
        ----------
        batch_size : int
            Samples per batch (the last batch may be shorter).
        transform : callable, optional
            Maps a batch of samples (what ``ds[...].read()[0]`` returns: an array, or an object
            array of ragged samples) to a dense array, e.g. ``InputLayer(...).transform`` or
            ``EventEncoder(...).transform``. Required when samples differ in size.
        shuffle : bool
            Shuffle the sample order, anew at every epoch end (seeded by ``seed`` and the
            epoch). Note that for gzip-compressed IDX files a shuffled batch reads across
            the whole file (see ``spykeflow.datasets.open_mnist``); decompress them first.
        seed : int
            Seed of the shuffling.
        **pydataset_kwargs
            ``workers``, ``use_multiprocessing``, ``max_queue_size`` of ``PyDataset``.

        Returns
        -------
        keras.utils.PyDataset
            ``len()`` batches; item ``k`` is the ``k``-th batch ``(x, y)``.
        """
        from ._keras_data import LazyPyDataset

        batch_size, transform = self._check_batching(batch_size, transform)
        return LazyPyDataset(self, batch_size, transform, check_bool(shuffle, "shuffle"),
                             check_int(seed, "seed", minimum=0), **pydataset_kwargs)

    def to_tf_dataset(self, transform: Callable | None = None,
                      batch_size: int | None = None) -> Any:
        """A ``tf.data.Dataset`` of ``(x, y)``: single samples, or batches of ``batch_size``.

        Samples are read in chunks (``batch_size``, or 256 when unbatched) by a Python
        generator; ``transform`` as in :meth:`to_pydataset`. The first chunk is read once here
        to learn the element shapes and dtypes.
        """
        from ._keras_data import to_tf_dataset

        chunk = 256 if batch_size is None else batch_size
        chunk, transform = self._check_batching(chunk, transform)
        return to_tf_dataset(self, transform, chunk, unbatch=batch_size is None)

    def _check_batching(self, batch_size: Any,
                        transform: Callable | None) -> tuple[int, Callable | None]:
        if not is_int(batch_size) or batch_size < 1:
            raise ValueError(f"Expected batch_size to be an int >= 1. "
                             f"Received: batch_size={batch_size!r}.")
        if transform is not None and not callable(transform):
            raise TypeError(f"Expected transform to be callable (e.g. InputLayer().transform) or "
                            f"None. Received: transform={transform!r}.")
        if transform is None and (self.sample_shape is None or self.sample_dtype.names):
            raise ValueError(
                f"Expected a transform for {self.name!r}: its samples "
                f"({'of varying size' if self.sample_shape is None else self.sample_dtype}) "
                "do not stack into a dense batch. Received: transform=None. Pass e.g. "
                "EventEncoder(...).transform or InputLayer(resize_to=...).transform."
            )
        if len(self) == 0:
            raise ValueError("Expected a dataset with at least one sample. Received: an empty "
                             "view.")
        return int(batch_size), transform


def stack_batch(samples: np.ndarray) -> np.ndarray:
    """A dense batch from ``samples`` (an array, or an object array of equal-shape arrays)."""
    if samples.dtype != object:
        return samples
    return np.stack(list(samples)) if len(samples) else samples
