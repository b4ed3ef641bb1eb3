"""Soli radar gesture sequences (Deep-Soli, Wang et al. 2016) in HDF5.

Files ``<gesture>_<session>_<instance>.h5`` (or ``.h5.gz``, decompressed in memory, never on
disk) under ``<root>/soli_sample/`` or ``<root>/soli/``. Each file holds datasets ``ch0`` ...
``ch3`` of shape (T, 1024): one 32 x 32 range-Doppler map per frame and receive channel,
flattened, and ``label`` (T, 1) with the gesture id of every frame.

Splits: ``"all"`` returns every file found (the only meaningful choice for the 14-file format
sample of the shared data folder). Deep-Soli's published evaluation uses a fixed list of
training and evaluation sequences, ``config/file_half.json`` of the authors' repository
(``{"train": [...], "eval": [...]}``, names like ``"0_8_4"``); put that file into the data
folder (or pass ``split_file=``) to get ``"train"`` and ``"test"`` (= ``"eval"``). For
cross-session experiments filter with ``sessions=[...]``.
"""

from __future__ import annotations

import io
import json
import pathlib
import re

import numpy as np
from numpy.typing import ArrayLike

from .._validation import check_in
from ._common import (
    DatasetFormatError,
    PathLike,
    Source,
    data_root,
    not_found,
    read_maybe_gzip,
)
from .lazy import FileSource, LazyDataset

__all__ = ["load_soli", "open_soli", "read_soli", "soli_metadata"]

_NAME = re.compile(r"^(\d+)_(\d+)_(\d+)\.h5(\.gz)?$")
_FOLDERS = ("soli_sample", "soli")
_SPLIT_FILE = "file_half.json"
_HOW_TO_GET = (
    "Deep-Soli (Wang et al., UIST 2016; github.com/simonwsw/deep-soli links the data): put the "
    "<gesture>_<session>_<instance>.h5 files (optionally gzip-compressed as .h5.gz) into "
    "<root>/soli/."
)
METADATA_DTYPE = np.dtype([("gesture", "i8"), ("session", "i8"), ("instance", "i8"),
                           ("frames", "i8")])


def read_soli(source: Source, name: str | None = None) -> tuple[np.ndarray, int]:
    """Read one Soli HDF5 file (path or bytes; gzip recognised by content).

    Returns
    -------
    maps : float32 array, shape (T, 4, 32, 32)
        Range-Doppler maps, channel axis 1 (``ch0`` ... ``ch3``), each frame 32 (range) x 32
        (Doppler), reshaped row-major from the stored 1024 values.
    label : int
        The gesture id (every frame of the file must carry the same one).

    Raises
    ------
    DatasetFormatError
        Corrupt gzip, not an HDF5 file, missing datasets, wrong shapes, or inconsistent labels.
    """
    import h5py

    if name is None:
        name = "<bytes>" if isinstance(source, (bytes, bytearray, memoryview)) else str(source)
    data = read_maybe_gzip(source, name=name)
    try:
        with h5py.File(io.BytesIO(data), "r") as h5:
            missing = [k for k in ("ch0", "ch1", "ch2", "ch3", "label") if k not in h5]
            if missing:
                raise DatasetFormatError(f"{name}: missing HDF5 datasets {missing}.")
            chans = [np.asarray(h5[f"ch{c}"][()], dtype=np.float32) for c in range(4)]
            labels = np.asarray(h5["label"][()])
    except DatasetFormatError:
        raise
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
        raise DatasetFormatError(
            f"{name}: unreadable HDF5 file ({type(exc).__name__}: {exc})."
        ) from None
    frames = chans[0].shape[0] if chans[0].ndim == 2 else -1
    for c, ch in enumerate(chans):
        if ch.ndim != 2 or ch.shape != (frames, 1024):
            raise DatasetFormatError(
                f"{name}: ch{c} has shape {ch.shape}; expected (T, 1024) like ch0 {chans[0].shape}."
            )
    if frames == 0:
        raise DatasetFormatError(f"{name}: the sequence has no frames.")
    labels = labels.reshape(-1)
    if labels.size != frames or np.unique(labels).size != 1:
        raise DatasetFormatError(
            f"{name}: 'label' must hold one gesture id per frame ({frames} equal values); "
            f"found {labels.size} values {np.unique(labels).tolist()[:5]}."
        )
    maps = np.stack([ch.reshape(frames, 32, 32) for ch in chans], axis=1)
    return maps, int(labels[0])


_Entry = tuple[int, int, int, pathlib.Path]  # gesture, session, instance, path


def _scan(root: PathLike | None, split: str, split_file: PathLike | None,
          sessions: ArrayLike | None) -> list[_Entry]:
    check_in(split, "split", ("all", "train", "test"))
    base = data_root(root)
    looked = [base / f for f in _FOLDERS]
    folder = None
    entries: list[_Entry] = []
    for candidate in looked:
        if not candidate.is_dir():
            continue
        found = []
        for path in candidate.iterdir():
            match = _NAME.match(path.name)
            if match:
                found.append((int(match[1]), int(match[2]), int(match[3]), path))
        if found:
            folder, entries = candidate, found
            break
    if folder is None:
        raise not_found("soli", looked, _HOW_TO_GET, root=root,
                        what="folder with <gesture>_<session>_<instance>.h5[.gz] files")
    # one entry per sequence: prefer the plain .h5 when both forms exist
    unique: dict[tuple[int, int, int], pathlib.Path] = {}
    for g, s, i, path in sorted(entries, key=lambda e: e[3].name.endswith(".gz")):
        unique.setdefault((g, s, i), path)
    entries = [(g, s, i, p) for (g, s, i), p in sorted(unique.items())]
    if sessions is not None:
        keep = {int(s) for s in np.atleast_1d(sessions)}
        entries = [e for e in entries if e[1] in keep]
    if split != "all":
        split_path = pathlib.Path(split_file) if split_file is not None else folder / _SPLIT_FILE
        if not split_path.is_file():
            raise not_found(
                "soli", [split_path],
                "Deep-Soli's split list config/file_half.json from github.com/simonwsw/deep-soli "
                f"(place it in {folder} or pass split_file=...); or use split='all'",
                root=root, what=f"split file for split={split!r}",
            )
        try:
            lists = json.loads(split_path.read_text(encoding="utf-8"))
            wanted = set(lists["train" if split == "train" else "eval"])
        except (ValueError, KeyError, TypeError) as exc:
            raise DatasetFormatError(
                f"{split_path}: expected JSON {{'train': [...], 'eval': [...]}} ({exc})."
            ) from None
        entries = [e for e in entries if f"{e[0]}_{e[1]}_{e[2]}" in wanted]
    return entries


def load_soli(split: str = "all", root: PathLike | None = None,
              split_file: PathLike | None = None, sessions: ArrayLike | None = None,
              progress: bool | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Load Soli range-Doppler sequences.

    Parameters
    ----------
    split : {"all", "train", "test"}
        ``"all"`` (default): every file. ``"train"``/``"test"``: Deep-Soli's published split
        (the ``train``/``eval`` lists of ``file_half.json``), which needs that file.
    root : path, optional
    split_file : path, optional
        Split list to use instead of ``<folder>/file_half.json``.
    sessions : int or list of int, optional
        Keep only these sessions (the middle number of the file name).
    progress : bool, optional
        Show a progress bar (default ``None``: only on an interactive terminal).

    Returns
    -------
    sequences : object array (N,) of float32 (T_i, 4, 32, 32) arrays
    labels : int64 array (N,)
        Gesture ids, read from each file's ``label`` and checked against its file name.
        Order: gesture, session, instance.
    """
    return open_soli(split, root, split_file, sessions).read(progress)


def open_soli(split: str = "all", root: PathLike | None = None,
              split_file: PathLike | None = None,
              sessions: ArrayLike | None = None) -> LazyDataset:
    """Soli as a :class:`~spykeflow.datasets.LazyDataset` (see :func:`load_soli`): files are
    listed now (labels from the file names), each sequence read when asked for and its
    ``label`` dataset checked against its file name then."""
    entries = _scan(root, split, split_file, sessions)
    folder = entries[0][3].parent if entries else data_root(root)
    return LazyDataset(FileSource(
        "soli", split, folder, [e[3].name for e in entries], [e[0] for e in entries],
        _read_checked, np.float32,
    ))


def _read_checked(path: PathLike) -> np.ndarray:
    """The maps of one file, whose label must be the gesture of its file name."""
    seq, label = read_soli(path)
    match = _NAME.match(pathlib.Path(path).name)
    gesture = int(match[1]) if match else label
    if label != gesture:
        raise DatasetFormatError(
            f"{path}: the file's label dataset says gesture {label} but the file name "
            f"says gesture {gesture}."
        )
    return seq


def soli_metadata(split: str = "all", root: PathLike | None = None,
                  split_file: PathLike | None = None,
                  sessions: ArrayLike | None = None) -> np.ndarray:
    """Gesture, session, instance and frame count per sequence, in :func:`load_soli` order."""
    import h5py

    entries = _scan(root, split, split_file, sessions)
    out = np.empty(len(entries), dtype=METADATA_DTYPE)
    for k, (g, s, i, path) in enumerate(entries):
        try:
            with h5py.File(io.BytesIO(read_maybe_gzip(path)), "r") as h5:
                frames = h5["ch0"].shape[0]
        except (OSError, KeyError, ValueError) as exc:
            raise DatasetFormatError(f"{path}: unreadable HDF5 file ({exc}).") from None
        out[k] = (g, s, i, frames)
    return out
