"""IDX files: MNIST, Fashion-MNIST and EMNIST Balanced.

IDX layout (big-endian): two zero bytes, a type code (0x08 uint8, 0x09 int8, 0x0B int16,
0x0C int32, 0x0D float32, 0x0E float64), the number of dimensions, one 4-byte size per
dimension, then the values in row-major order. MNIST image files therefore start with the magic
number 2051 (``00 00 08 03``) and label files with 2049 (``00 00 08 01``). Files may be
gzip-compressed (recognised by content, not by name) and are decompressed in memory.

EMNIST stores every 28x28 image transposed (column-major); :func:`load_emnist_balanced` returns
them upright unless ``transpose=False``.
"""

from __future__ import annotations

import logging
import pathlib
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from .._validation import check_bool, check_in
from . import _ranges
from ._common import (
    DatasetFormatError,
    PathLike,
    Source,
    data_root,
    find_file,
    not_found,
    read_maybe_gzip,
)
from .lazy import LazyDataset, SampleSource

logger = logging.getLogger("spykeflow.datasets")

__all__ = [
    "read_idx",
    "load_mnist",
    "load_fashion_mnist",
    "load_emnist_balanced",
    "open_mnist",
    "open_fashion_mnist",
    "open_emnist_balanced",
    "IdxSource",
    "emnist_mapping",
    "IMAGES_MAGIC",
    "LABELS_MAGIC",
]

#: Magic number of an IDX file of uint8 images (N, rows, cols).
IMAGES_MAGIC = 2051
#: Magic number of an IDX file of uint8 labels (N,).
LABELS_MAGIC = 2049

_IDX_TYPES: dict[int, np.dtype] = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def read_idx(source: Source, expect_magic: int | None = None,
             name: str | None = None) -> np.ndarray:
    """Parse an IDX file (raw or gzip-compressed) into a numpy array.

    Parameters
    ----------
    source : str, os.PathLike or bytes
        Path of the file, or its content.
    expect_magic : int, optional
        Required magic number, e.g. ``IMAGES_MAGIC`` (2051) or ``LABELS_MAGIC`` (2049).
    name : str, optional
        Name used in error messages (defaults to the path, or ``"<bytes>"``).

    Returns
    -------
    numpy.ndarray
        Writable array in native byte order, shape given by the header.

    Raises
    ------
    DatasetFormatError
        (a ``ValueError``) on a corrupt gzip stream, a bad magic number, a truncated file or
        trailing bytes, always naming the file.
    DatasetNotFoundError
        (a ``FileNotFoundError``) when the path does not exist.

    Examples
    --------
    >>> data = bytes([0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3]) + bytes(range(6))
    >>> read_idx(data).tolist()
    [[0, 1, 2], [3, 4, 5]]
    >>> read_idx(data, expect_magic=2051)
    Traceback (most recent call last):
    ...
    spykeflow.datasets.DatasetFormatError: <bytes>: wrong magic number 2050 ...
    """
    if name is None and not isinstance(source, (bytes, bytearray, memoryview)):
        name = str(source)
    data = read_maybe_gzip(source, name=name)
    name = name or "<bytes>"
    dtype, shape, header, expected = _parse_header(data, name, expect_magic)
    _check_size(name, len(data), expected, shape, dtype)
    count = int(np.prod(shape, dtype=np.int64))
    arr = np.frombuffer(data, dtype=dtype, count=count, offset=header).reshape(shape)
    return arr.astype(dtype.newbyteorder("="), copy=True)


def _parse_header(head: bytes, name: str,
                  expect_magic: int | None) -> tuple[np.dtype, tuple[int, ...], int, int]:
    """``(dtype, shape, header bytes, file bytes)`` from the first bytes of an IDX file
    (``head``: at least the header, or the whole file when it is shorter)."""
    size = len(head)
    if size < 4:
        raise DatasetFormatError(
            f"{name}: truncated IDX file: {size} bytes, fewer than the 4-byte magic number."
        )
    magic = int.from_bytes(head[:4], "big")
    if expect_magic is not None and magic != expect_magic:
        raise DatasetFormatError(
            f"{name}: wrong magic number {magic} (0x{magic:08X}); expected {expect_magic} "
            f"(0x{expect_magic:08X}, {_describe_magic(expect_magic)}). "
            "Is this the right file (images vs labels), and is it an IDX file at all?"
        )
    if head[0] != 0 or head[1] != 0 or head[2] not in _IDX_TYPES or head[3] == 0:
        raise DatasetFormatError(
            f"{name}: not an IDX file: magic number {magic} (0x{magic:08X}) does not have the "
            "form 00 00 <type 08/09/0B/0C/0D/0E> <ndim >= 1>."
        )
    dtype = _IDX_TYPES[head[2]]
    ndim = head[3]
    header = 4 + 4 * ndim
    if size < header:
        raise DatasetFormatError(
            f"{name}: truncated IDX header: {ndim} dimensions need {header} bytes, "
            f"the file has {size}."
        )
    shape = tuple(int.from_bytes(head[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    return dtype, shape, header, expected


def _check_size(name: str, size: int, expected: int, shape: tuple[int, ...],
                dtype: np.dtype) -> None:
    if size < expected:
        raise DatasetFormatError(
            f"{name}: truncated IDX file: the header announces shape {shape} of {dtype.name} "
            f"({expected} bytes with the header) but the file has only {size} bytes. "
            "Delete it and download it again."
        )
    if size > expected:
        raise DatasetFormatError(
            f"{name}: {size - expected} unexpected bytes after the data announced by the "
            f"header (shape {shape} of {dtype.name}, {expected} bytes in total)."
        )


def _describe_magic(magic: int) -> str:
    if magic == IMAGES_MAGIC:
        return "uint8 images N x rows x cols"
    if magic == LABELS_MAGIC:
        return "uint8 labels N"
    return "IDX"


# ----------------------------------------------------------------------------------------------
# Dataset definitions

_MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
_HOW_TO_GET = {
    "mnist": 'spykeflow.datasets.download("mnist", root) (about 11 MB)',
    "fashion_mnist": 'spykeflow.datasets.download("fashion_mnist", root) (about 30 MB)',
    "emnist_balanced": (
        'spykeflow.datasets.download("emnist_balanced", root) (fetches the 536 MB NIST '
        "gzip.zip once and extracts the balanced split)"
    ),
}


def _candidates(stem: str) -> list[str]:
    """File names tried for one IDX file: gzip first, then raw, then the old dotted name."""
    dotted = stem.replace("-idx", ".idx")
    return [stem + ".gz", stem, dotted + ".gz", dotted]


class _IdxFile(NamedTuple):
    """Where the values of an IDX file lie: everything needed to read a range of samples."""

    path: str
    gz: bool
    dtype: np.dtype
    shape: tuple[int, ...]
    header: int


def _index_idx(path: pathlib.Path, expect_magic: int) -> _IdxFile:
    """Parse the header of an IDX file and check its size, without reading the data.

    A raw file's size comes from the file system; a gzip file's from its ISIZE trailer, and
    only when that disagrees (a truncated or multi-member stream) is it decompressed once to
    count, so errors are the same as :func:`read_idx`'s.
    """
    name = str(path)
    gz = _ranges.is_gzip(name)
    head = _ranges.read_bytes(name, gz, 0, 4)  # then the sizes: the stream only moves forward
    if len(head) == 4 and head[3] > 0:
        head += _ranges.read_bytes(name, gz, 4, 4 * head[3])
    dtype, shape, header, expected = _parse_header(head, name, expect_magic)
    if not gz:
        size = path.stat().st_size
    elif _ranges.gzip_isize(name) == expected % 2**32:
        size = expected
    else:
        size = len(read_maybe_gzip(path, name=name))
    _check_size(name, size, expected, shape, dtype)
    return _IdxFile(name, gz, dtype, shape, header)


def _read_rows(idx: _IdxFile, positions: np.ndarray) -> np.ndarray:
    """Rows ``positions`` (any order, repeats allowed) of an indexed IDX file.

    The distinct positions are read in increasing order as runs of consecutive rows, one
    :func:`~spykeflow.datasets._ranges.read_bytes` per run (see there for the cost on gzip).
    """
    row_shape = idx.shape[1:]
    row_bytes = int(np.prod(row_shape, dtype=np.int64)) * idx.dtype.itemsize
    wanted = np.unique(positions)
    raw = np.empty((wanted.size, row_bytes), dtype=np.uint8)
    cuts = np.flatnonzero(np.diff(wanted) != 1) + 1
    for lo, hi in zip(np.r_[0, cuts], np.r_[cuts, wanted.size]):
        if lo == hi:
            continue
        first, stop = int(wanted[lo]), int(wanted[hi - 1]) + 1
        data = _ranges.read_bytes(idx.path, idx.gz, idx.header + first * row_bytes,
                                  (stop - first) * row_bytes, to_end=stop == idx.shape[0])
        if len(data) != (stop - first) * row_bytes:
            raise DatasetFormatError(
                f"{idx.path}: truncated IDX file: rows {first}..{stop - 1} lie beyond its end "
                "(did the file change after it was opened?)."
            )
        raw[lo:hi] = np.frombuffer(data, dtype=np.uint8).reshape(hi - lo, row_bytes)
    rows = raw.view(idx.dtype).reshape(wanted.size, *row_shape)
    rows = rows.astype(idx.dtype.newbyteorder("="), copy=False)
    if wanted.size != positions.size or not np.array_equal(wanted, positions):
        rows = rows[np.searchsorted(wanted, positions)]
    return rows


class IdxSource(SampleSource):
    """Samples of an IDX image file with the labels of an IDX label file (MNIST layout).

    Images are read per requested range (:func:`_read_rows`); the labels file (one byte per
    sample) is read whole when first needed in a process and kept there (not pickled).
    """

    def __init__(self, name: str, split: str, images: _IdxFile, labels_path: str,
                 labels: np.ndarray, transpose: bool = False) -> None:
        self.name = name
        self.split = split
        self.images = images
        self.labels_path = labels_path
        self.transpose = transpose
        shape = images.shape[1:]
        self.sample_shape = shape[::-1] if transpose else shape
        self.sample_dtype = images.dtype.newbyteorder("=")
        self._labels: np.ndarray | None = labels

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_labels": None}

    def __len__(self) -> int:
        return self.images.shape[0]

    def labels(self) -> np.ndarray:
        if self._labels is None:
            self._labels = read_idx(self.labels_path, LABELS_MAGIC).astype(np.int64)
        return self._labels

    def read(self, positions: np.ndarray, progress: bool | None = None) -> np.ndarray:
        images = _read_rows(self.images, positions)
        if self.transpose:
            images = np.ascontiguousarray(images.transpose(0, 2, 1))
        return images


def _open_pair(folder: pathlib.Path, image_names: Sequence[str], label_names: Sequence[str],
               dataset: str, split: str, n_classes: int, root: PathLike | None,
               transpose: bool = False) -> LazyDataset:
    images_path = find_file(folder, image_names)
    labels_path = find_file(folder, label_names)
    missing = [names for names, p in ((image_names, images_path), (label_names, labels_path))
               if p is None]
    if images_path is None or labels_path is None:
        looked = [folder / n for names in missing for n in names]
        raise not_found(dataset, looked, _HOW_TO_GET[dataset], root=root, what="IDX file")
    images = _index_idx(images_path, IMAGES_MAGIC)
    labels = read_idx(labels_path, expect_magic=LABELS_MAGIC)
    if images.shape[0] != labels.shape[0]:
        raise DatasetFormatError(
            f"Dataset {dataset!r}: image/label count mismatch: {images_path} holds "
            f"{images.shape[0]} images but {labels_path} holds {labels.shape[0]} labels."
        )
    if images.shape[1:] != (28, 28):
        raise DatasetFormatError(
            f"{images_path}: expected 28 x 28 images, the header says {images.shape[1:]}."
        )
    labels = labels.astype(np.int64)
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise DatasetFormatError(
            f"{labels_path}: labels must lie in 0..{n_classes - 1} for {dataset!r}; "
            f"found values {labels.min()}..{labels.max()}."
        )
    logger.debug("Indexed %s: %s images in %s", dataset, images.shape[0], images_path)
    return LazyDataset(IdxSource(dataset, split, images, str(labels_path), labels, transpose))


def _open_mnist_like(dataset: str, folders: Sequence[str], split: str,
                     root: PathLike | None) -> LazyDataset:
    check_in(split, "split", ("train", "test"))
    base = data_root(root)
    looked = [base / f for f in folders]
    folder = next((p for p in looked if p.is_dir()), None)
    if folder is None:
        raise not_found(dataset, looked, _HOW_TO_GET[dataset], root=root)
    img, lab = _MNIST_FILES[split]
    return _open_pair(folder, _candidates(img), _candidates(lab), dataset, split, 10, root)


def open_mnist(split: str = "train", root: PathLike | None = None) -> LazyDataset:
    """MNIST as a :class:`~spykeflow.datasets.LazyDataset` (see :func:`load_mnist`).

    Images are read per requested range: raw files by seeking, gzip files through a
    per-process gzip handle that seeks forward (reading ranges in increasing order
    decompresses the file about once; an earlier range rewinds, costing up to one more pass,
    about 0.2 s for the 47 MB training images). Decompress the files for fast random access.
    """
    return _open_mnist_like("mnist", ("mnist",), split, root)


def open_fashion_mnist(split: str = "train", root: PathLike | None = None) -> LazyDataset:
    """Fashion-MNIST as a :class:`~spykeflow.datasets.LazyDataset` (see :func:`open_mnist`)."""
    return _open_mnist_like("fashion_mnist", ("fashion_mnist",), split, root)


def load_mnist(split: str = "train",
               root: PathLike | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Load MNIST handwritten digits from ``<root>/mnist/``.

    Parameters
    ----------
    split : {"train", "test"}
        60,000 training or 10,000 test images.
    root : path, optional
        Data root (see :func:`spykeflow.datasets.data_root`).

    Returns
    -------
    images : uint8 array, shape (N, 28, 28)
        0 = background, 255 = ink.
    labels : int64 array, shape (N,)
        Digits 0-9.
    """
    return open_mnist(split, root).read()


def load_fashion_mnist(split: str = "train",
                       root: PathLike | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Load Fashion-MNIST from ``<root>/fashion_mnist/`` (same layout and shapes as MNIST).

    Labels: 0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal, 6 Shirt,
    7 Sneaker, 8 Bag, 9 Ankle boot.
    """
    return open_fashion_mnist(split, root).read()


_EMNIST_FOLDERS = ("emnist_balanced", "emnist_balanced_subset")


def _emnist_names(split: str, kind: str) -> list[str]:
    part = "images-idx3" if kind == "images" else "labels-idx1"
    official = f"emnist-balanced-{split}-{part}-ubyte"
    subset = f"emnist-balanced-{split}-subset-{part}-ubyte"
    return _candidates(official) + _candidates(subset)


def _emnist_folder(root: PathLike | None) -> pathlib.Path:
    base = data_root(root)
    looked = [base / f for f in _EMNIST_FOLDERS]
    for folder in looked:
        if folder.is_dir() and find_file(folder, _emnist_names("train", "images") +
                                         _emnist_names("test", "images")):
            return folder
    for folder in looked:  # a folder without IDX files: report the missing files there
        if folder.is_dir():
            return folder
    raise not_found("emnist_balanced", looked, _HOW_TO_GET["emnist_balanced"], root=root)


def load_emnist_balanced(split: str = "train", root: PathLike | None = None,
                         transpose: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Load EMNIST Balanced (47 classes: digits, upper-case and some lower-case letters).

    Looks in ``<root>/emnist_balanced/`` (official file names such as
    ``emnist-balanced-train-images-idx3-ubyte.gz``) and then in
    ``<root>/emnist_balanced_subset/`` (the ``*-subset-*`` names of the partial subset: 9,120
    training and 304 test images, which is what the shared data folder holds).

    Parameters
    ----------
    split : {"train", "test"}
    root : path, optional
    transpose : bool
        EMNIST files store each image transposed. ``True`` (default) returns the characters
        upright, like MNIST; ``False`` keeps the storage order.

    Returns
    -------
    images : uint8 array, shape (N, 28, 28)
    labels : int64 array, shape (N,)
        Class indices 0-46; :func:`emnist_mapping` gives the character of each.
    """
    return open_emnist_balanced(split, root, transpose).read()


def open_emnist_balanced(split: str = "train", root: PathLike | None = None,
                         transpose: bool = True) -> LazyDataset:
    """EMNIST Balanced as a :class:`~spykeflow.datasets.LazyDataset` (see
    :func:`load_emnist_balanced` and, for the cost of reads, :func:`open_mnist`)."""
    check_in(split, "split", ("train", "test"))
    transpose = check_bool(transpose, "transpose")
    folder = _emnist_folder(root)
    if folder.name.endswith("_subset"):
        logger.info("EMNIST Balanced: using the partial subset in %s", folder)
    return _open_pair(folder, _emnist_names(split, "images"), _emnist_names(split, "labels"),
                      "emnist_balanced", split, 47, root, transpose)


def emnist_mapping(root: PathLike | None = None) -> list[str]:
    """Characters of the 47 EMNIST Balanced classes, read from ``emnist-balanced-mapping.txt``.

    The file has one ``<label> <ASCII code>`` line per class (CRLF or LF line endings). For
    the official file they are ``spykeflow.plotting.EMNIST_BALANCED_LABELS`` (which plots use
    without needing the data).

    Returns
    -------
    list of str
        ``mapping[label]`` is the character, e.g. ``mapping[10] == "A"``.
    """
    folder = _emnist_folder(root)
    path = folder / "emnist-balanced-mapping.txt"
    if not path.is_file():
        raise not_found("emnist_balanced", [path], _HOW_TO_GET["emnist_balanced"], root=root,
                        what="mapping file")
    text = path.read_bytes().decode("ascii", errors="replace")
    pairs = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split()
        try:
            label, code = int(parts[0]), int(parts[1])
            if len(parts) != 2 or not 0 <= code < 0x110000:
                raise ValueError
        except (ValueError, IndexError):
            raise DatasetFormatError(
                f"{path}, line {lineno}: expected '<label> <ASCII code>', got {line!r}."
            ) from None
        pairs[label] = chr(code)
    if sorted(pairs) != list(range(len(pairs))) or not pairs:
        raise DatasetFormatError(
            f"{path}: labels must be 0..n-1 without gaps; found {sorted(pairs)}."
        )
    return [pairs[i] for i in range(len(pairs))]
