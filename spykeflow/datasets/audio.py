"""Free Spoken Digit Dataset (FSDD): WAV recordings ``recordings/{digit}_{speaker}_{index}.wav``.

3,000 recordings (6 speakers x 10 digits x 50), mono 16-bit PCM at 8 kHz. The standard split
puts recordings with index 0-4 of every speaker and digit into the test set (300) and index
5-49 into the training set (2,700). For a speaker-held-out evaluation, load ``split="all"`` with
``speakers=[...]`` for each side; :func:`fsdd_metadata` lists digit, speaker, index and sample
rate per recording in the same order as :func:`load_fsdd`.
"""

from __future__ import annotations

import pathlib
import re
import struct
from collections.abc import Sequence

import numpy as np

from .._validation import check_in
from ._common import (
    DatasetFormatError,
    PathLike,
    data_root,
    not_found,
)
from .lazy import FileSource, LazyDataset

__all__ = ["load_fsdd", "open_fsdd", "fsdd_metadata", "read_wav", "FSDD_TEST_INDICES"]

#: Recording indices of the standard test split (per speaker and digit).
FSDD_TEST_INDICES = range(0, 5)
_NAME = re.compile(r"^(\d)_([A-Za-z0-9-]+)_(\d+)\.wav$", re.IGNORECASE)
_HOW_TO_GET = (
    "the Free Spoken Digit Dataset (github.com/Jakobovski/free-spoken-digit-dataset, CC BY-SA "
    "4.0): copy its recordings/ folder to <root>/fsdd/recordings/."
)
METADATA_DTYPE = np.dtype([("digit", "i8"), ("speaker", "U32"), ("index", "i8"), ("rate", "i8")])


def read_wav(path: PathLike) -> tuple[int, np.ndarray]:
    """Read a WAV file as ``(rate, float32 waveform in [-1, 1])``.

    Integer PCM is scaled by its full range (int16 / 32768, int32 / 2**31, uint8 centred on 128);
    float files are returned as stored. Only mono files are accepted.

    Raises
    ------
    DatasetFormatError
        Not a readable WAV file, or more than one channel (the message names the file).
    """
    from scipy.io import wavfile

    try:
        rate, data = wavfile.read(path)
    except (ValueError, OSError, EOFError, struct.error, IndexError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise DatasetFormatError(
            f"{path}: unreadable WAV file ({type(exc).__name__}: {exc})."
        ) from None
    if data.ndim != 1:
        raise DatasetFormatError(
            f"{path}: expected a mono recording, found {data.shape[1]} channels."
        )
    if data.dtype == np.uint8:
        wave = (data.astype(np.float32) - 128.0) / 128.0
    elif np.issubdtype(data.dtype, np.integer):
        wave = data.astype(np.float32) / float(2 ** (8 * data.dtype.itemsize - 1))
    else:
        wave = data.astype(np.float32)
    return int(rate), wave


_Entry = tuple[int, str, int, pathlib.Path]  # digit, speaker, index, path


def _scan(root: PathLike | None, split: str,
          speakers: str | Sequence[str] | None) -> list[_Entry]:
    check_in(split, "split", ("train", "test", "all"))
    base = data_root(root)
    looked = [base / "fsdd" / "recordings", base / "fsdd"]
    folder = next((p for p in looked if p.is_dir() and any(p.glob("*.wav"))), None)
    if folder is None:
        raise not_found("fsdd", looked, _HOW_TO_GET, root=root, what="folder with WAV files")
    entries = []
    for path in folder.iterdir():
        if path.name.startswith(".") or path.suffix.lower() != ".wav":
            continue
        match = _NAME.match(path.name)
        if match is None:
            raise DatasetFormatError(
                f"{path}: file name does not follow '{{digit}}_{{speaker}}_{{index}}.wav'."
            )
        digit, speaker, index = int(match[1]), match[2], int(match[3])
        entries.append((digit, speaker, index, path))
    entries.sort(key=lambda e: (e[0], e[1], e[2]))
    if speakers is not None:
        if isinstance(speakers, str):
            speakers = [speakers]
        available = sorted({e[1] for e in entries})
        unknown = sorted(set(speakers) - set(available))
        if unknown:
            raise ValueError(
                f"Expected speakers among {available}. Received unknown speakers {unknown}."
            )
        entries = [e for e in entries if e[1] in set(speakers)]
    if split == "test":
        entries = [e for e in entries if e[2] in FSDD_TEST_INDICES]
    elif split == "train":
        entries = [e for e in entries if e[2] not in FSDD_TEST_INDICES]
    return entries


def load_fsdd(split: str = "train", root: PathLike | None = None,
              speakers: str | Sequence[str] | None = None,
              progress: bool | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Load FSDD recordings as float32 waveforms.

    Parameters
    ----------
    split : {"train", "test", "all"}
        Standard split: index 0-4 of every speaker/digit is "test", 5-49 "train".
    root : path, optional
    speakers : str or list of str, optional
        Keep only these speakers (e.g. ``split="all", speakers=["theo"]`` for a held-out speaker).
        Unknown names raise ``ValueError`` listing the available ones.
    progress : bool, optional
        Show a progress bar (default ``None``: only on an interactive terminal).

    Returns
    -------
    waves : object array (N,) of float32 1-D arrays in [-1, 1] (8 kHz samples)
    labels : int64 array (N,)
        Spoken digit 0-9. Order: digit, speaker, index (same as :func:`fsdd_metadata`).
    """
    return open_fsdd(split, root, speakers).read(progress)


def open_fsdd(split: str = "train", root: PathLike | None = None,
              speakers: str | Sequence[str] | None = None) -> LazyDataset:
    """FSDD as a :class:`~spykeflow.datasets.LazyDataset` (see :func:`load_fsdd`): the file
    names are indexed now, each recording is read when asked for."""
    entries = _scan(root, split, speakers)
    folder = entries[0][3].parent if entries else data_root(root) / "fsdd"
    return LazyDataset(FileSource("fsdd", split, folder, [e[3].name for e in entries],
                                  [e[0] for e in entries], _read_waveform, np.float32))


def _read_waveform(path: PathLike) -> np.ndarray:
    return read_wav(path)[1]


def fsdd_metadata(split: str = "train", root: PathLike | None = None,
                  speakers: str | Sequence[str] | None = None) -> np.ndarray:
    """Per-recording metadata in :func:`load_fsdd` order.

    Returns
    -------
    numpy structured array with fields ``digit``, ``speaker``, ``index`` and ``rate`` (Hz,
    read from each file's header).
    """
    entries = _scan(root, split, speakers)
    out = np.empty(len(entries), dtype=METADATA_DTYPE)
    for i, (digit, speaker, index, path) in enumerate(entries):
        out[i] = (digit, speaker, index, _wav_rate(path))
    return out


def _wav_rate(path: pathlib.Path) -> int:
    """Sample rate from the WAV ``fmt`` chunk without reading the samples."""
    with open(path, "rb") as fh:
        head = fh.read(4096)
    pos = head.find(b"fmt ")
    if head[:4] not in (b"RIFF", b"RIFX") or pos < 0 or len(head) < pos + 16:
        raise DatasetFormatError(f"{path}: not a WAV file (no RIFF/fmt header).")
    order = "<" if head[:4] == b"RIFF" else ">"
    return int(struct.unpack(order + "I", head[pos + 12 : pos + 16])[0])
