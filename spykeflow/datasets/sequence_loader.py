"""``load("sequences", ...)``: the synthetic MNIST sequences of Samadzadeh et al. from MNIST.

Sequence ``seq`` (1..5, see :mod:`spykeflow.datasets.sequences`) is built from MNIST's train or
test split (so the data root must hold ``mnist/``): optionally a seeded random subset of ``n``
digits, then :func:`~spykeflow.datasets.sequences.make_sequences` with a seed derived from
``seed``, ``seq`` and the split (train and test clips never share random draws). With ``cache``
the clips are stored in (or read back from) that ``.npz`` file, written atomically; the file
also records the settings and a mismatch raises ``ValueError``.
"""

from __future__ import annotations

import logging
import pathlib

import numpy as np

from .._validation import check_in, check_int
from ._common import PathLike
from .idx import open_mnist
from .lazy import LazyDataset, SampleSource
from .sequences import check_seq, draw_sequences, render_sequences, sequence_targets

__all__ = ["load_sequences", "open_sequences"]

logger = logging.getLogger("spykeflow.datasets")

_SPLITS = ("train", "test")


def load_sequences(split: str = "train", root: PathLike | None = None, seq: int = 1,
                   n: int | None = None, seed: int = 0, time_steps: int = 10,
                   cache: PathLike | None = None,
                   progress: bool | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Clips of synthetic sequence ``seq`` built from MNIST's ``split``.

    Parameters
    ----------
    split : {"train", "test"}
        MNIST split the digits come from.
    root : path, optional
        Data root holding ``mnist/`` (see :func:`spykeflow.datasets.data_root`).
    seq : int, 1..5
    n : int or None
        Number of clips: a seeded random subset of the split's digits (None: all of them).
    seed : int
        Seeds the subset and the clip generation (directions, occluders, random angles); >= 0.
    time_steps : int, default 10
        Frames per clip, >= 2.
    cache : path or None
        ``.npz`` file to read the clips from, or to write them to (atomically) if missing.
    progress : bool, optional
        Show a progress bar while generating (default ``None``: only on an interactive
        terminal).

    Returns
    -------
    clips : uint8 array (N, T, 28, 28)
    targets : int64 array (N,)
        10 (seq 4) or 20 classes; see :data:`~spykeflow.datasets.sequences.SEQUENCES`.
    """
    check_in(split, "split", _SPLITS)
    seq = check_seq(seq)
    n = check_int(n, "n", allow_none=True)
    seed = check_int(seed, "seed", minimum=0)
    time_steps = check_int(time_steps, "time_steps", minimum=2)
    meta = np.array([seq, -1 if n is None else n, seed, time_steps, _SPLITS.index(split)],
                    np.int64)
    cache_path = None if cache is None else pathlib.Path(cache)
    if cache_path is not None:
        if cache_path.suffix != ".npz":
            raise ValueError(
                f"Expected cache to be a .npz path. Received: cache={str(cache_path)!r}."
            )
        if cache_path.is_file():
            from ..io import load_npz

            data = load_npz(cache_path)
            if "meta" not in data or not np.array_equal(data["meta"], meta):
                raise ValueError(
                    f"The cache {str(cache_path)!r} holds other settings (seq, n, seed, "
                    f"time_steps, split = {data.get('meta', np.array([])).tolist()}, requested "
                    f"{meta.tolist()}). Pass another cache path or delete the file."
                )
            return data["clips"], data["targets"].astype(np.int64)
    clips, targets = _open(split, root, seq, n, seed, time_steps).read(progress)
    if cache_path is not None:
        from ..io import save_npz_atomic

        save_npz_atomic(cache_path, clips=clips, targets=targets, meta=meta)
        logger.info("cached %d clips of sequence %d (%s) in %s", len(clips), seq, split,
                    cache_path)
    return clips, targets


def open_sequences(split: str = "train", root: PathLike | None = None, seq: int = 1,
                   n: int | None = None, seed: int = 0, time_steps: int = 10) -> LazyDataset:
    """The clips of :func:`load_sequences` as a :class:`~spykeflow.datasets.LazyDataset`.

    Only the random numbers of all clips are drawn (once per process, when labels or clips
    are first needed); a clip is rendered from its MNIST digit, read lazily, when asked for.
    ``cache`` (a file of all clips) only makes sense for :func:`load_sequences`.
    """
    check_in(split, "split", _SPLITS)
    return _open(split, root, check_seq(seq), check_int(n, "n", allow_none=True),
                 check_int(seed, "seed", minimum=0), check_int(time_steps, "time_steps",
                                                               minimum=2))


def _open(split: str, root: PathLike | None, seq: int, n: int | None, seed: int,
          time_steps: int) -> LazyDataset:
    digits = open_mnist(split=split, root=root)
    if n is not None:
        if n > len(digits):
            raise ValueError(
                f"Expected n <= {len(digits)} (the MNIST {split} split). Received: n={n}."
            )
        digits = digits[np.sort(np.random.default_rng([seed, 7919]).permutation(len(digits))[:n])]
    clip_seed = int(np.random.SeedSequence([seed, seq, _SPLITS.index(split)])
                    .generate_state(1)[0])
    return LazyDataset(_SequenceSource(split, digits, seq, time_steps, clip_seed))


class _SequenceSource(SampleSource):
    """Clips rendered on demand from a lazy view of MNIST digits."""

    def __init__(self, split: str, digits: LazyDataset, seq: int, time_steps: int,
                 clip_seed: int) -> None:
        self.name = "sequences"
        self.split = split
        self.digits = digits
        self.seq = seq
        self.time_steps = time_steps
        self.clip_seed = clip_seed
        self.frame_shape: tuple[int, ...] = digits.sample_shape or (28, 28)
        self.sample_shape = (time_steps, *self.frame_shape)
        self.sample_dtype = np.dtype(np.uint8)
        self._draws: tuple[np.ndarray, np.ndarray] | None = None

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_draws": None}

    def draws(self) -> tuple[np.ndarray, np.ndarray]:
        if self._draws is None:
            self._draws = draw_sequences(len(self.digits), self.seq, self.time_steps,
                                         self.clip_seed, self.frame_shape)
        return self._draws

    def __len__(self) -> int:
        return len(self.digits)

    def labels(self) -> np.ndarray:
        return sequence_targets(self.digits.labels, self.seq, self.draws()[0])

    def read(self, positions: np.ndarray, progress: bool | None = None) -> np.ndarray:
        forward, draws = self.draws()
        images = self.digits[positions].read()[0]
        return render_sequences(images, self.seq, self.time_steps, forward[positions],
                                draws[positions], progress)
