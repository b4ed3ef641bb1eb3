"""STDP competition: which of a step's new spikes may learn (docs/original/stdp.md#competition).

The kernels work on the list of a step's new spikes (``s_pos``, ``s_map``, ``s_val``: flat
output position ``row * W_out + col``, map, potential; entries ``q < ns``) and on the learning
mask ``allowed`` ``(H_out*W_out, C)`` of the sample:

1. :func:`select_candidates` keeps the spikes of neurons still allowed to learn; the others'
   values are set to 0 (``K = S * V * A``).
2. :func:`greedy_all` (the original's form, the default) or :func:`per_map_max` (the paper's
   form) choose at most one winner per map, no two winners within ``window // 2`` of each
   other (``wp[m]``: the position of map ``m``'s winner, -1 for none):

   ``"greedy_all"``
       ``P = max_m K``, ``M = argmax_m K`` per position (ties: lowest map). While any
       ``P > 0``: the first row-major position holding the global maximum wins for map
       ``M``; then ``P = 0`` wherever ``M`` is that map and inside the window around the
       winner. A map whose best neuron was inhibited can still win with another one.
   ``"per_map_max"``
       Each map is reduced to its maximum (first row-major on ties); these are visited by
       decreasing potential (ties: position, then map) and accepted unless inside the window
       of an earlier winner.
3. :func:`block_winners`: every winner blocks its window in all maps and its own map
   everywhere for the rest of the sample, so a map learns at most once per sample.
"""

from __future__ import annotations

import numba as nb
import numpy as np

__all__ = ["COMPETITIONS", "select_candidates", "greedy_all", "per_map_max", "block_winners"]

#: Names of the two competition forms (``STDPConv(competition=...)``).
COMPETITIONS = ("greedy_all", "per_map_max")


@nb.njit(cache=True)
def select_candidates(allowed, s_pos, s_map, s_val, ns):
    """Zero the values of this step's spikes whose neuron may not learn any more; returns
    whether any candidate is left.

    >>> allowed = np.ones((2, 1), np.bool_); allowed[1, 0] = False
    >>> s_val = np.array([16.0, 17.0], np.float32)
    >>> select_candidates(allowed, np.array([0, 1], np.int32), np.zeros(2, np.int32), s_val, 2)
    True
    >>> s_val.tolist()
    [16.0, 0.0]
    """
    any_left = False
    for q in range(ns):
        if allowed[s_pos[q], s_map[q]] and s_val[q] > 0:
            any_left = True
        else:
            s_val[q] = 0
    return any_left


@nb.njit(cache=True)
def greedy_all(s_pos, s_map, s_val, ns, n_maps, wo, h, one_per_position, p, pm, wp):
    """The original's greedy competition over all candidates; fills ``wp`` and returns the
    number of winners.

    ``one_per_position``: lateral inhibition left at most one spike per position, so the map of
    an entry is its position's argmax. ``p`` and ``pm`` are scratch arrays of ``ns`` entries.

    >>> s_pos = np.array([3 * 7 + 3, 3 * 7 + 4, 0], np.int32)    # (3, 3) map 1, (3, 4), (0, 0)
    >>> s_map = np.array([1, 0, 0], np.int32)
    >>> s_val = np.array([30.0, 25.0, 20.0], np.float32)
    >>> wp = np.empty(2, np.int32)
    >>> n = greedy_all(s_pos, s_map, s_val, 3, 2, 7, 1, True, np.empty(3, np.float32),
    ...                np.empty(3, np.int32), wp)
    >>> n, wp.tolist()              # map 0 still wins at (0, 0) after losing (3, 4)
    (2, [0, 24])
    """
    wp[:] = -1
    for q in range(ns):
        p[q] = s_val[q]
        pm[q] = s_map[q] if one_per_position else _position_map(s_pos, s_map, s_val, ns, q)
    nw = 0
    for _ in range(n_maps):
        bq = -1
        bv = np.float32(0.0)
        for q in range(ns):
            v = p[q]
            if v > 0 and (v > bv or (v == bv and _before(s_pos, s_map, q, bq))):
                bq = q
                bv = v
        if bq < 0:
            break
        m = s_map[bq]
        wp[m] = s_pos[bq]
        nw += 1
        r0, c0 = s_pos[bq] // wo, s_pos[bq] % wo
        for q in range(ns):
            if p[q] > 0 and (pm[q] == m or (abs(s_pos[q] // wo - r0) <= h
                                            and abs(s_pos[q] % wo - c0) <= h)):
                p[q] = 0
    return nw


@nb.njit(cache=True)
def _before(s_pos, s_map, q, bq):
    """Tie order of greedy_all: lower position first, then lower map."""
    if bq < 0:
        return True
    if s_pos[q] != s_pos[bq]:
        return s_pos[q] < s_pos[bq]
    return s_map[q] < s_map[bq]


@nb.njit(cache=True)
def _position_map(s_pos, s_map, s_val, ns, q):
    """M at the position of entry q: the lowest-index map with the maximal K there."""
    p = s_pos[q]
    bv = np.float32(-1.0)
    bm = -1
    for r in range(ns):
        if s_pos[r] == p and (s_val[r] > bv or (s_val[r] == bv and s_map[r] < bm)):
            bv = s_val[r]
            bm = s_map[r]
    return bm


@nb.njit(cache=True)
def per_map_max(s_pos, s_map, s_val, ns, n_maps, wo, h, best, bpos, wp):
    """The paper's competition: each map's maximum first; fills ``wp`` and returns the number
    of winners. ``best`` and ``bpos`` are scratch arrays of ``n_maps`` entries.

    >>> s_pos = np.array([3 * 7 + 3, 3 * 7 + 4, 0], np.int32)
    >>> s_map = np.array([1, 0, 0], np.int32)
    >>> s_val = np.array([30.0, 25.0, 20.0], np.float32)
    >>> wp = np.empty(2, np.int32)
    >>> n = per_map_max(s_pos, s_map, s_val, 3, 2, 7, 1, np.empty(2, np.float32),
    ...                 np.empty(2, np.int32), wp)
    >>> n, wp.tolist()              # map 0's maximum (3, 4) is inside map 1's window
    (1, [-1, 24])
    """
    wp[:] = -1
    best[:] = 0
    bpos[:] = -1
    for q in range(ns):
        v = s_val[q]
        m = s_map[q]
        if v > 0 and (v > best[m] or (v == best[m] and s_pos[q] < bpos[m])):
            best[m] = v
            bpos[m] = s_pos[q]
    nw = 0
    for _ in range(n_maps):
        bm = -1
        for m in range(n_maps):
            if bpos[m] < 0:
                continue
            if bm < 0 or best[m] > best[bm] or (best[m] == best[bm] and bpos[m] < bpos[bm]):
                bm = m
        if bm < 0:
            break
        r0, c0 = bpos[bm] // wo, bpos[bm] % wo
        blocked = False
        for m in range(n_maps):
            if wp[m] >= 0 and abs(wp[m] // wo - r0) <= h and abs(wp[m] % wo - c0) <= h:
                blocked = True
        if not blocked:
            wp[bm] = bpos[bm]
            nw += 1
        bpos[bm] = -1
    return nw


@nb.njit(cache=True)
def block_winners(allowed, wp, wo, h):
    """Apply the winners' blocks to the learning mask ``allowed`` ``(H*W, C)`` in place: the
    ``(2h+1)^2`` window around each winner in every map, and the winner's whole map.

    >>> allowed = np.ones((9, 2), np.bool_)                      # a 3x3 map, 2 maps
    >>> block_winners(allowed, np.array([-1, 0], np.int32), 3, 1)
    >>> allowed[:, 0].reshape(3, 3).astype(int).tolist(), int(allowed[:, 1].sum())
    ([[0, 0, 1], [0, 0, 1], [1, 1, 1]], 0)
    """
    hw, n_maps = allowed.shape
    ho = hw // wo
    for m in range(n_maps):
        if wp[m] < 0:
            continue
        r0, c0 = wp[m] // wo, wp[m] % wo
        for rr in range(max(0, r0 - h), min(ho, r0 + h + 1)):
            for cc in range(max(0, c0 - h), min(wo, c0 + h + 1)):
                for mm in range(n_maps):
                    allowed[rr * wo + cc, mm] = False
        for pos in range(hw):
            allowed[pos, m] = False
