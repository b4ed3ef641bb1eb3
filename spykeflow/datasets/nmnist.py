"""N-MNIST event recordings (Orchard et al. 2015) in the native 40-bit ``.bin`` encoding.

Each event takes 5 bytes, read as big-endian bit fields of one 40-bit word:

====== =========================================
bits   field
====== =========================================
39-32  x address (pixels, 0-33 for N-MNIST)
31-24  y address (pixels, 0-33)
23     polarity (1 = ON, 0 = OFF)
22-0   timestamp in microseconds (23 bits)
====== =========================================

Events are returned as structured arrays of ``EVENT_DTYPE`` (fields ``x``, ``y``, ``p``,
``t``), the dtype that :class:`spykeflow.EventEncoder` bins into ON/OFF spike frames. Values are
kept as stored: no coordinate filtering and no re-ordering. (Orchard's MATLAB reader also treats
events with ``y == 240`` as timestamp-overflow markers; recordings of the length of N-MNIST
samples, about 0.3 s, never need them, and they are not interpreted here.)
"""

from __future__ import annotations

import pathlib

import numpy as np
from numpy.typing import ArrayLike

from .._validation import check_in
from ._common import (
    DatasetFormatError,
    DatasetNotFoundError,
    PathLike,
    Source,
    data_root,
    find_file,
    not_found,
    read_source,
)
from .lazy import FileSource, LazyDataset

__all__ = ["EVENT_DTYPE", "read_nmnist_events", "encode_nmnist_events", "load_nmnist",
           "open_nmnist"]

#: Structured dtype of one event: x, y (pixels), p (1 = ON, 0 = OFF), t (microseconds).
EVENT_DTYPE = np.dtype([("x", "<u2"), ("y", "<u2"), ("p", "u1"), ("t", "<u4")])

#: ``(height, width)`` of the N-MNIST recordings (ATIS sensor crop), ``LazyDataset.sensor_size``.
SENSOR_SIZE = (34, 34)

_BYTES_PER_EVENT = 5
_MAX_T = (1 << 23) - 1

_HOW_TO_GET = (
    "N-MNIST (Orchard et al. 2015, Garrick Orchard's N-MNIST page / Mendeley Data, CC BY 4.0): "
    "put samples/<id>.bin (or .bs2) plus the tables train1K.txt / test100.txt into "
    "<root>/nmnist_small/ (or <root>/nmnist/), or the official Train/<digit>/*.bin and "
    "Test/<digit>/*.bin folders into <root>/nmnist/."
)


def read_nmnist_events(path_or_bytes: Source, name: str | None = None) -> np.ndarray:
    """Decode one N-MNIST event file (5 bytes per event) into a structured array.

    Parameters
    ----------
    path_or_bytes : str, os.PathLike or bytes
        File path or the file content.
    name : str, optional
        Name used in error messages.

    Returns
    -------
    numpy.ndarray of ``EVENT_DTYPE``, shape (n_events,)
        ``x``, ``y`` in pixels, ``p`` 1 = ON / 0 = OFF, ``t`` in microseconds, in file order.

    Raises
    ------
    DatasetFormatError
        (a ``ValueError``) when the content is empty or its length is not a multiple of 5.
    DatasetNotFoundError
        (a ``FileNotFoundError``) when the path does not exist.

    Examples
    --------
    >>> ev = read_nmnist_events(bytes([3, 7, 0x80, 0x01, 0x02, 33, 0, 0x7F, 0xFF, 0xFF]))
    >>> ev["x"].tolist(), ev["y"].tolist(), ev["p"].tolist(), ev["t"].tolist()
    ([3, 33], [7, 0], [1, 0], [258, 8388607])
    """
    data, name = read_source(path_or_bytes, name, what="N-MNIST event file")
    if not data:
        raise DatasetFormatError(f"{name}: empty event file (0 bytes, no events).")
    if len(data) % _BYTES_PER_EVENT:
        raise DatasetFormatError(
            f"{name}: malformed event file: {len(data)} bytes is not a multiple of "
            f"{_BYTES_PER_EVENT} (5 bytes per event); the file is truncated or not N-MNIST."
        )
    b = np.frombuffer(data, dtype=np.uint8).reshape(-1, _BYTES_PER_EVENT)
    events = np.empty(b.shape[0], dtype=EVENT_DTYPE)
    events["x"] = b[:, 0]
    events["y"] = b[:, 1]
    events["p"] = b[:, 2] >> 7
    events["t"] = (
        ((b[:, 2].astype(np.uint32) & 0x7F) << 16)
        | (b[:, 3].astype(np.uint32) << 8)
        | b[:, 4].astype(np.uint32)
    )
    return events


def encode_nmnist_events(events: ArrayLike) -> bytes:
    """Encode a structured event array back into the 5-byte N-MNIST layout.

    Inverse of :func:`read_nmnist_events` for events with ``x, y < 256``, ``p in {0, 1}`` and
    ``t < 2**23``; other values raise ``ValueError``.

    >>> ev = read_nmnist_events(bytes([3, 7, 0x80, 0x01, 0x02]))
    >>> encode_nmnist_events(ev) == bytes([3, 7, 0x80, 0x01, 0x02])
    True
    """
    events = np.asarray(events)
    if events.dtype.names is None or not {"x", "y", "p", "t"} <= set(events.dtype.names):
        raise TypeError(
            "Expected a structured array with fields x, y, p, t (spykeflow.datasets.EVENT_DTYPE). "
            f"Received: dtype={events.dtype}."
        )
    x, y, p, t = (events[f].astype(np.int64).ravel() for f in ("x", "y", "p", "t"))
    for field, values, hi in (("x", x, 255), ("y", y, 255), ("p", p, 1), ("t", t, _MAX_T)):
        if values.size and (values.min() < 0 or values.max() > hi):
            raise ValueError(
                f"Expected events[{field!r}] in 0..{hi} to fit the 40-bit N-MNIST layout. "
                f"Received values {values.min()}..{values.max()}."
            )
    out = np.empty((x.size, _BYTES_PER_EVENT), dtype=np.uint8)
    out[:, 0] = x
    out[:, 1] = y
    out[:, 2] = (p << 7) | (t >> 16)
    out[:, 3] = (t >> 8) & 0xFF
    out[:, 4] = t & 0xFF
    return out.tobytes()


_FOLDERS = ("nmnist_small", "nmnist")
_TABLES = {"train": ("train1K.txt", "train.txt"), "test": ("test100.txt", "test.txt")}


def _read_table(path: pathlib.Path) -> tuple[list[int], list[int]]:
    """Parse a ``#sample #class`` table into (ids, labels)."""
    ids: list[int] = []
    labels: list[int] = []
    text = path.read_bytes().decode("utf-8", errors="replace")
    for lineno, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        try:
            if len(parts) != 2:
                raise ValueError
            sample, label = int(parts[0]), int(parts[1])
        except ValueError:
            raise DatasetFormatError(
                f"{path}, line {lineno}: expected '<sample id> <class>', got {line!r}."
            ) from None
        if not 0 <= label <= 9:
            raise DatasetFormatError(f"{path}, line {lineno}: class {label} is not a digit 0-9.")
        ids.append(sample)
        labels.append(label)
    if not ids:
        raise DatasetFormatError(f"{path}: the table lists no samples.")
    return ids, labels


def _from_table(folder: pathlib.Path, table: pathlib.Path, split: str) -> LazyDataset:
    ids, labels = _read_table(table)
    samples_dir = folder / "samples"
    files = []
    for sample in ids:
        path = find_file(samples_dir, (f"{sample}.bs2", f"{sample}.bin"))
        if path is None:
            raise DatasetNotFoundError(
                f"Dataset 'nmnist': sample {sample} listed in {table} has no file; looked for "
                f"{samples_dir / f'{sample}.bs2'} and {samples_dir / f'{sample}.bin'}."
            )
        files.append(path.name)
    return LazyDataset(FileSource("nmnist", split, samples_dir, files, labels,
                                  read_nmnist_events, EVENT_DTYPE, sensor_size=SENSOR_SIZE))


def _from_digit_folders(split_dir: pathlib.Path, split: str) -> LazyDataset:
    files: list[str] = []
    labels: list[int] = []
    for digit in range(10):
        sub = split_dir / str(digit)
        if not sub.is_dir():
            continue
        found = sorted(sub.glob("*.bin"), key=lambda p: (len(p.stem), p.stem))
        files += [f"{digit}/{p.name}" for p in found]
        labels += [digit] * len(found)
    if not files:
        raise DatasetFormatError(f"{split_dir}: no <digit>/*.bin event files found.")
    return LazyDataset(FileSource("nmnist", split, split_dir, files, labels,
                                  read_nmnist_events, EVENT_DTYPE, sensor_size=SENSOR_SIZE))


def load_nmnist(split: str = "train", root: PathLike | None = None,
                progress: bool | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Load N-MNIST event recordings.

    Searches ``<root>/nmnist_small/`` then ``<root>/nmnist/``. A folder is read either through
    a table (``train1K.txt`` / ``test100.txt``: ``<id> <class>`` lines, ``#`` comments) naming
    ``samples/<id>.bs2`` (or ``.bin``) files, or, in the official layout, from
    ``Train/<digit>/*.bin`` / ``Test/<digit>/*.bin``.

    Parameters
    ----------
    split : {"train", "test"}
    root : path, optional
    progress : bool, optional
        Show a progress bar (default ``None``: only on an interactive terminal).

    Returns
    -------
    samples : object array, shape (N,)
        Each entry a structured array of ``EVENT_DTYPE``, shape (n_events,).
    labels : int64 array, shape (N,)
        Digits 0-9.
    """
    return open_nmnist(split, root).read(progress)


def open_nmnist(split: str = "train", root: PathLike | None = None) -> LazyDataset:
    """N-MNIST as a :class:`~spykeflow.datasets.LazyDataset`: the recordings are indexed (and
    their files checked to exist) now, and each is read from its file when asked for.

    See :func:`load_nmnist` for the layouts; samples are ``EVENT_DTYPE`` arrays of varying
    length (``sample_shape`` is None).
    """
    check_in(split, "split", ("train", "test"))
    base = data_root(root)
    looked: list[pathlib.Path] = []
    for name in _FOLDERS:
        folder = base / name
        table = find_file(folder, _TABLES[split])
        looked += [folder / t for t in _TABLES[split]]
        if table is not None:
            return _from_table(folder, table, split)
        split_dir = folder / split.capitalize()
        looked.append(split_dir)
        if split_dir.is_dir():
            return _from_digit_folders(split_dir, split)
    raise not_found("nmnist", looked, _HOW_TO_GET, root=root, what=f"{split!r} table or folder")
