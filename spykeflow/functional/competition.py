"""STDP competition: which above-threshold neurons may learn at a step (reference S1, S3, S4).

Candidates ``K`` are this step's post-inhibition spikes valued by their potential, with neurons
blocked earlier in the sample set to 0. Two forms:

``"greedy_all"`` (original SpykeFlow, default)
    ``P = max_m K``, ``M = argmax_m K`` (ties: lowest map). While any ``P > 0``: the first
    row-major position holding the global maximum wins for map ``M[r, c]``; then ``P = 0``
    wherever ``M`` is that map, and in the ``window x window`` square around ``(r, c)``. A map
    whose best neuron was inhibited can still win with another one.
``"per_map_max"`` (the paper)
    Each map is first reduced to its maximum (first row-major on ties). These are visited by
    decreasing potential (ties: row-major position, then map index); one is accepted unless it
    lies in the window of an earlier accepted winner.

After the competition every winner blocks (``A = 0``) its window in all maps and its own map
for the rest of the sample (:func:`block_winners`), so a map learns at most once per sample.
"""

from __future__ import annotations

import numpy as np

__all__ = ["stdp_competition", "block_winners", "COMPETITIONS"]

COMPETITIONS = ("greedy_all", "per_map_max")


def _window(r, c, h, shape):
    return slice(max(0, r - h), min(shape[0], r + h + 1)), slice(max(0, c - h), min(shape[1], c + h + 1))


def stdp_competition(k, window, mode="greedy_all"):
    """Winners ``[(map, row, col), ...]`` in the order they were chosen.

    Parameters
    ----------
    k : ndarray (H, W, C)
        Candidate values (potential of neurons that spiked this step and may learn, else 0).
    window : int
        Inhibition window size (11 for Conv1, 3 for Conv2); half-width ``window // 2``.
    mode : {"greedy_all", "per_map_max"}

    >>> k = np.zeros((1, 9, 2)); k[0, 0, 0] = 20; k[0, 1, 0] = 19; k[0, 4, 1] = 18
    >>> stdp_competition(k, 3)            # map 1's neuron at col 4 is outside the window
    [(0, 0, 0), (1, 0, 4)]
    """
    k = np.asarray(k, np.float64)
    if mode not in COMPETITIONS:
        raise ValueError(f"Expected mode in {COMPETITIONS}. Received: mode={mode!r}.")
    h = int(window) // 2
    winners = []
    if mode == "greedy_all":
        p = k.max(axis=-1).copy()
        m = np.argmax(k == k.max(axis=-1, keepdims=True), axis=-1)
        while (p > 0).any():
            r, c = np.unravel_index(np.argmax(p), p.shape)   # first row-major global maximum
            mw = int(m[r, c])
            winners.append((mw, int(r), int(c)))
            p[m == mw] = 0
            p[_window(r, c, h, p.shape)] = 0
        return winners
    hw = k.shape[0] * k.shape[1]
    flat = k.reshape(hw, -1)
    best_pos = np.argmax(flat, axis=0)                         # first row-major maximum per map
    best_val = flat[best_pos, np.arange(flat.shape[1])]
    order = sorted(
        (i for i in range(flat.shape[1]) if best_val[i] > 0),
        key=lambda i: (-best_val[i], best_pos[i], i),
    )
    for i in order:
        r, c = divmod(int(best_pos[i]), k.shape[1])
        if any(abs(r - rw) <= h and abs(c - cw) <= h for _, rw, cw in winners):
            continue
        winners.append((int(i), r, c))
    return winners


def block_winners(allowed, winners, window):
    """Return a copy of the learning mask ``allowed`` (H, W, C) with the winners' blocks applied.

    >>> a = block_winners(np.ones((3, 3, 2), bool), [(1, 0, 0)], 3)
    >>> a[..., 0].astype(int).tolist(), int(a[..., 1].sum())
    ([[0, 0, 1], [0, 0, 1], [1, 1, 1]], 0)
    """
    allowed = np.array(allowed, bool)
    h = int(window) // 2
    for m, r, c in winners:
        allowed[_window(r, c, h, allowed.shape)] = False
        allowed[..., m] = False
    return allowed
