"""Shared pieces of the dataset loaders: data-root resolution, dataset names, errors, file
search helpers, progress bars.

Nothing here writes to disk; loaders only read.
"""

from __future__ import annotations

import gzip
import os
import pathlib
import zlib
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

import numpy as np

from .._validation import check_bool

#: A path argument: ``str`` or ``os.PathLike``.
PathLike = str | os.PathLike
#: A file given by its path, or its content given directly.
Source = str | os.PathLike | bytes | bytearray | memoryview

_T = TypeVar("_T")

#: Name of the environment variable holding the data root.
ENV_VAR = "SPYKEFLOW_DATA"
#: Folder (relative to the current working directory) used when nothing else is given.
DEFAULT_FOLDER = "AllDataSets"


class DatasetNotFoundError(FileNotFoundError):
    """A dataset folder or file is missing.

    The message names the dataset, every place that was searched, and how to obtain the data.
    Subclass of :class:`FileNotFoundError`, so ``except FileNotFoundError`` also catches it.
    """

    __module__ = "spykeflow.datasets"


class DatasetFormatError(ValueError):
    """A dataset file exists but its content is not what the format requires.

    The message names the file and the problem (wrong magic number, truncated data, count
    mismatch, corrupt gzip stream, undecodable image, malformed event stream ...).
    Subclass of :class:`ValueError`.
    """

    __module__ = "spykeflow.datasets"


#: Alternative dataset names accepted by :func:`spykeflow.datasets.load` and ``download``.
ALIASES = {
    "fashion": "fashion_mnist",
    "emnist": "emnist_balanced",
    "facebike": "caltech_face_motor",
}


def canonical_name(name: str) -> str:
    """The canonical spelling of a dataset name: case-insensitive, ``-`` read as ``_``, aliases
    resolved (the caller checks that the result is a dataset it knows).

    >>> canonical_name(" Fashion-MNIST "), canonical_name("emnist")
    ('fashion_mnist', 'emnist_balanced')
    """
    if not isinstance(name, str):
        raise TypeError(f"Expected the dataset name as a str. Received: name={name!r}.")
    key = name.strip().lower().replace("-", "_")
    return ALIASES.get(key, key)


def data_root(root: PathLike | None = None) -> pathlib.Path:
    """Resolve the dataset root folder.

    Order: the explicit ``root`` argument, then the environment variable ``$SPYKEFLOW_DATA``,
    then ``./AllDataSets`` relative to the current working directory (the documented last
    fallback, meant for running from a clone of the repository). The folder is not required to
    exist; loaders report a missing dataset with :class:`DatasetNotFoundError`.

    Parameters
    ----------
    root : str or os.PathLike, optional
        Explicit data root. ``~`` is expanded.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> data_root("/data/sets").as_posix()
    '/data/sets'
    """
    if root is not None:
        if not isinstance(root, (str, os.PathLike)):
            raise TypeError(
                "Expected root to be a path (str or os.PathLike) or None. "
                f"Received: root={root!r} of type {type(root).__name__}."
            )
        return pathlib.Path(root).expanduser()
    env = os.environ.get(ENV_VAR)
    if env:
        return pathlib.Path(env).expanduser()
    return pathlib.Path.cwd() / DEFAULT_FOLDER


def describe_root_source(root: PathLike | None = None) -> str:
    """Say where the data root came from (for error messages)."""
    if root is not None:
        return "the root= argument"
    if os.environ.get(ENV_VAR):
        return f"${ENV_VAR}"
    return f"the default ./{DEFAULT_FOLDER}, as neither root= nor ${ENV_VAR} was given"


def not_found(dataset: str, looked: Iterable[Any], how_to_get: str,
              root: PathLike | None = None, what: str = "folder") -> DatasetNotFoundError:
    """Build a :class:`DatasetNotFoundError` listing every place that was searched."""
    places = "\n".join(f"  - {p}" for p in looked)
    return DatasetNotFoundError(
        f"Dataset {dataset!r}: no {what} found. Data root {data_root(root)} "
        f"(from {describe_root_source(root)}). Looked in:\n{places}\n"
        f"How to get it: {how_to_get}\n"
        f"Pass root=... or set ${ENV_VAR} if the data live elsewhere."
    )


def find_file(folder: PathLike, names: Iterable[str]) -> pathlib.Path | None:
    """Return the first existing ``folder/<name>`` among ``names`` (or None)."""
    for name in names:
        path = pathlib.Path(folder) / name
        if path.is_file():
            return path
    return None


def read_source(source: Source, name: str | None = None,
                what: str = "file") -> tuple[bytes, str]:
    """Return ``(bytes, name)`` of ``source``: a path (read) or bytes (taken as they are).

    A missing path raises :class:`DatasetNotFoundError`, a directory
    :class:`DatasetFormatError`; ``what`` names the expected kind of file in the messages.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source), name or "<bytes>"
    if isinstance(source, (str, os.PathLike)):
        path = pathlib.Path(source)
        try:
            return path.read_bytes(), name or str(path)
        except FileNotFoundError:
            raise DatasetNotFoundError(f"{what[0].upper() + what[1:]} not found: {path}") from None
        except IsADirectoryError:
            raise DatasetFormatError(
                f"{path}: expected {_article(what)}, found a directory."
            ) from None
    raise TypeError(
        "Expected a path (str or os.PathLike) or bytes. "
        f"Received: {type(source).__name__}."
    )


def _article(what: str) -> str:
    return ("an " if what[0] in "aeiou" else "a ") + what


def read_maybe_gzip(source: Source, name: str | None = None) -> bytes:
    """Return the bytes of ``source`` (path or bytes), gunzipped in memory when gzip-compressed.

    Gzip is recognised by its magic bytes ``1f 8b``, not by the file name, so raw and
    compressed files work under either name. A corrupt or truncated gzip stream raises
    :class:`DatasetFormatError` naming the file.
    """
    raw, name = read_source(source, name)
    if raw[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(raw)
        except GZIP_ERRORS as exc:  # BadGzipFile is an OSError
            raise corrupt_gzip(name, exc) from None
    return raw


#: Exceptions raised by the gzip module on a corrupt or truncated stream.
GZIP_ERRORS = (OSError, EOFError, zlib.error)


def corrupt_gzip(name: str, exc: BaseException) -> DatasetFormatError:
    """The error for a corrupt or truncated gzip stream in file ``name``."""
    return DatasetFormatError(
        f"{name}: corrupt or truncated gzip data ({type(exc).__name__}: {exc}). "
        "Delete the file and download it again."
    )


def object_array(items: Sequence[Any]) -> np.ndarray:
    """1-D object array holding ``items`` (arrays of differing shapes) without broadcasting."""
    out = np.empty(len(items), dtype=object)
    for i, item in enumerate(items):
        out[i] = item
    return out


def progress_bar(iterable: Iterable[_T], progress: bool | None, desc: str,
                 total: int | None = None, unit: str = "it") -> Iterable[_T]:
    """Wrap ``iterable`` in a tqdm bar: ``progress=True`` always shows it, ``False`` never,
    ``None`` only on an interactive terminal (the loaders' default)."""
    from tqdm.auto import tqdm

    disable = None if progress is None else not check_bool(progress, "progress")
    return tqdm(iterable, desc=desc, total=total, disable=disable, leave=False, unit=unit)
