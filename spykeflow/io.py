"""Atomic file writing and SpykeFlow's one model format (a folder with a checksummed manifest).

Every file SpykeFlow writes goes to a temporary file in the destination folder first and is
then renamed into place with :func:`os.replace`, so an interrupted run never leaves a
half-written file behind: a reader sees either the old file or the complete new one.

Models (:meth:`spykeflow.Network.save`, :meth:`spykeflow.Classifier.save`) and training
checkpoints are *folders* written by :func:`save_folder` and read by :func:`load_folder`::

    <path>/manifest.json   format name and version, SpykeFlow version, the object's metadata,
                           and the SHA-256 of every other file of the folder
    <path>/arrays.npz      numeric arrays (never pickled objects)
    <path>/...             files a writer adds (e.g. ``model.keras``)

The folder is assembled under a temporary name beside ``path`` and swapped into place, so a
reader finds the old complete folder or the new complete one; a file changed after saving is
caught by its checksum when loading.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pathlib
import shutil
import tempfile
from collections.abc import Callable

import numpy as np

from ._version import __version__

__all__ = [
    "atomic_path",
    "write_bytes_atomic",
    "write_text_atomic",
    "write_json_atomic",
    "read_json",
    "save_npz_atomic",
    "load_npz",
    "save_folder",
    "load_folder",
    "sha256_file",
    "MANIFEST",
]

#: Name of the manifest file of a saved folder.
MANIFEST = "manifest.json"
_ARRAYS = "arrays.npz"


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; on success rename it to ``path``.

    On an exception the temporary file is removed and ``path`` is left untouched.
    """
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield pathlib.Path(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual file mode
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_bytes_atomic(path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text_atomic(path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    write_bytes_atomic(path, text.encode("utf-8"))


def write_json_atomic(path, obj) -> None:
    """Write ``obj`` as indented JSON to ``path`` atomically (numpy scalars/arrays allowed)."""
    write_text_atomic(path, json.dumps(obj, indent=2, sort_keys=True, default=_json_default) + "\n")


def read_json(path):
    """Read a JSON file."""
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def save_npz_atomic(path, **arrays) -> None:
    """Save arrays to an uncompressed ``.npz`` atomically (never pickled object arrays)."""
    for name, arr in arrays.items():
        if np.asarray(arr).dtype == object:
            raise TypeError(f"Array {name!r} has dtype object, which would need pickle.")
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)


def load_npz(path) -> dict:
    """Load every array of a ``.npz`` file into a dict (``allow_pickle=False``)."""
    with np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def sha256_file(path) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def save_folder(path, kind: str, version: int, metadata: dict, arrays: dict | None = None,
                files: dict[str, Callable[[pathlib.Path], None]] | None = None) -> pathlib.Path:
    """Write a model folder atomically (see the module docstring); returns its path.

    Parameters
    ----------
    path : str or path
        The folder; an existing one is replaced as a whole.
    kind : str
        Format name, e.g. ``"spykeflow.Network"``; :func:`load_folder` checks it.
    version : int
        Format version of ``kind``.
    metadata : dict
        JSON-serialisable description of the object (numpy scalars and arrays allowed).
    arrays : dict of name -> array, optional
        Saved to ``arrays.npz``; object arrays are refused (they would need pickle).
    files : dict of name -> writer, optional
        Extra files: ``writer(file_path)`` writes the file (e.g. a Keras model).

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp()) / "model"
    >>> _ = save_folder(d, "demo", 1, {"answer": 42}, {"w": np.arange(3)})
    >>> meta, arrays = load_folder(d, "demo", 1)
    >>> meta["answer"], arrays["w"].tolist()
    (42, [0, 1, 2])
    """
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = pathlib.Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        names = []
        if arrays:
            save_npz_atomic(tmp / _ARRAYS, **arrays)
            names.append(_ARRAYS)
        for name, writer in (files or {}).items():
            if name in (MANIFEST, _ARRAYS) or pathlib.Path(name).name != name:
                raise ValueError(f"Expected a plain file name other than {MANIFEST!r} and "
                                 f"{_ARRAYS!r}. Received: {name!r}.")
            writer(tmp / name)
            names.append(name)
        manifest = {"format": kind, "format_version": int(version),
                    "spykeflow_version": __version__, "metadata": metadata,
                    "sha256": {n: sha256_file(tmp / n) for n in names}}
        write_json_atomic(tmp / MANIFEST, manifest)
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes 0700; give the usual folder mode
        if path.exists():
            old = path.with_name(f".{path.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


def load_folder(path, kind: str, version: int) -> tuple[dict, dict]:
    """Read a folder written by :func:`save_folder`; returns ``(metadata, arrays)``.

    Checks the format name, that its version is at most ``version`` (the newest this
    SpykeFlow writes), and every file's checksum. Extra files are read by the caller from
    ``path`` after this returns.
    """
    path = pathlib.Path(path)
    manifest_path = path / MANIFEST
    if not manifest_path.is_file():
        hint = ""
        if path.with_suffix(".json").is_file() or path.suffix in (".json", ".npz"):
            hint = (" This looks like a file of SpykeFlow 0.1 (a .json/.npz pair); that format "
                    "is no longer read: fit again and save with this version.")
        raise FileNotFoundError(f"Expected a saved {kind} folder with {MANIFEST} at {path}. "
                                f"Received: no such file.{hint}")
    manifest = read_json(manifest_path)
    if manifest.get("format") != kind:
        raise ValueError(f"Expected a {kind!r} folder. Received: format="
                         f"{manifest.get('format')!r} in {manifest_path}.")
    if int(manifest.get("format_version", 0)) > int(version):
        raise ValueError(
            f"Expected {kind} format version <= {version}. Received: version "
            f"{manifest.get('format_version')} (written by SpykeFlow "
            f"{manifest.get('spykeflow_version')}). Upgrade SpykeFlow to read it.")
    for name, digest in manifest.get("sha256", {}).items():
        if not (path / name).is_file() or sha256_file(path / name) != digest:
            raise ValueError(f"{path / name} does not match its checksum in {manifest_path} "
                             "(the folder was changed or only partly copied). Save it again.")
    arrays = load_npz(path / _ARRAYS) if _ARRAYS in manifest.get("sha256", {}) else {}
    return manifest["metadata"], arrays


def _json_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, pathlib.PurePath):
        return str(obj)
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serialisable")
