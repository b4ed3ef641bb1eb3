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

from ._common import check_split
from .idx import load_mnist
from .sequences import SEQUENCES, make_sequences

__all__ = ["load_sequences"]

logger = logging.getLogger("spykeflow.datasets")

_SPLITS = ("train", "test")


def load_sequences(split="train", root=None, seq=1, n=None, seed=0, time_steps=10, cache=None,
                   progress=False):
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
        Seeds the subset and the clip generation (directions, occluders, random angles).
    time_steps : int, default 10
    cache : path or None
        ``.npz`` file to read the clips from, or to write them to (atomically) if missing.
    progress : bool
        Show a progress bar while generating.

    Returns
    -------
    clips : uint8 array (N, T, 28, 28)
    targets : int64 array (N,)
        10 (seq 4) or 20 classes; see :data:`~spykeflow.datasets.sequences.SEQUENCES`.
    """
    check_split(split, _SPLITS, "sequences")
    if isinstance(seq, bool) or seq not in SEQUENCES:
        raise ValueError(f"Expected seq in {sorted(SEQUENCES)}. Received: seq={seq!r}.")
    if n is not None and (isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1):
        raise ValueError(f"Expected n to be None or a positive integer. Received: n={n!r}.")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"Expected seed to be a non-negative integer. Received: seed={seed!r}.")
    if isinstance(time_steps, bool) or not isinstance(time_steps, (int, np.integer)) or time_steps < 2:
        raise ValueError(f"Expected time_steps to be an integer >= 2. Received: time_steps={time_steps!r}.")
    meta = np.array([seq, -1 if n is None else int(n), int(seed), int(time_steps),
                     _SPLITS.index(split)], np.int64)
    if cache is not None:
        cache = pathlib.Path(cache)
        if cache.suffix != ".npz":
            raise ValueError(f"Expected cache to be a .npz path. Received: cache={str(cache)!r}.")
        if cache.is_file():
            from ..io import load_npz

            data = load_npz(cache)
            if "meta" not in data or not np.array_equal(data["meta"], meta):
                raise ValueError(
                    f"The cache {str(cache)!r} holds other settings (seq, n, seed, time_steps, "
                    f"split = {data.get('meta', np.array([])).tolist()}, requested "
                    f"{meta.tolist()}). Pass another cache path or delete the file."
                )
            return data["clips"], data["targets"].astype(np.int64)
    images, labels = load_mnist(split=split, root=root)
    if n is not None:
        if n > len(images):
            raise ValueError(
                f"Expected n <= {len(images)} (the MNIST {split} split). Received: n={n}."
            )
        pick = np.sort(np.random.default_rng([int(seed), 7919]).permutation(len(images))[:n])
        images, labels = images[pick], labels[pick]
    clip_seed = int(np.random.SeedSequence([int(seed), int(seq), _SPLITS.index(split)])
                    .generate_state(1)[0])
    clips, targets = make_sequences(images, labels, seq, time_steps=int(time_steps), seed=clip_seed,
                                    progress=progress)
    if cache is not None:
        from ..io import save_npz_atomic

        save_npz_atomic(cache, clips=clips, targets=targets, meta=meta)
        logger.info("cached %d clips of sequence %d (%s) in %s", len(clips), seq, split, cache)
    return clips, targets
