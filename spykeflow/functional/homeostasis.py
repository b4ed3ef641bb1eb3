"""Homeostasis: maps that win too often are excluded from learning and decayed
(docs/original/stdp.md#homeostasis).

Training images are grouped in blocks of ``B`` (per epoch). A map's counter counts its STDP
wins in the current block; the counters restart at the block's first image. While a map has
more than ``B / factor`` counted wins, its candidates are removed from the competition on every
step that has any candidate, and its kernel is depressed uniformly, ``W <- W - c W (1 - W)``
(:func:`spykeflow.functional.stdp.soft_bound` with rate ``-c``).

The original restarted the counters on *every step* of a block's first image, so wins there
were not counted (the default here, ``count_first_image=False``); ``count_first_image=True``
counts all ``B`` images.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from .stdp import soft_bound

__all__ = ["suppress_overactive", "count_wins"]


@nb.njit(cache=True)
def suppress_overactive(counts, limit, decay, w, s_map, s_val, ns):
    """For every map with ``counts > limit``: zero its candidates among this step's spikes
    (entries ``q < ns``) and decay its kernel (column of ``w``) in place.

    >>> w = np.full((2, 2), 0.5, np.float32)
    >>> s_val = np.array([20.0, 18.0], np.float32)
    >>> suppress_overactive(np.array([2.0, 0.0], np.float32), 1.0, np.float32(0.1), w,
    ...                     np.array([0, 1], np.int32), s_val, 2)
    >>> s_val.tolist(), w[:, 0].tolist(), w[:, 1].tolist()
    ([0.0, 18.0], [0.4749999940395355, 0.4749999940395355], [0.5, 0.5])
    """
    rate = -np.float32(decay)
    for m in range(w.shape[1]):
        if counts[m] > limit:
            for q in range(ns):
                if s_map[q] == m:
                    s_val[q] = 0
            for r in range(w.shape[0]):
                w[r, m] = soft_bound(w[r, m], rate)


@nb.njit(cache=True)
def count_wins(counts, wp):
    """Add one counted win to every map with a winner this step (``wp[m] >= 0``).

    >>> counts = np.zeros(3, np.float32)
    >>> count_wins(counts, np.array([5, -1, 0], np.int32)); counts.tolist()
    [1.0, 0.0, 1.0]
    """
    for m in range(counts.shape[0]):
        if wp[m] >= 0:
            counts[m] += 1
