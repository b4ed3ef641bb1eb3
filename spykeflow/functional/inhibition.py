"""Firing and lateral inhibition between the maps of a convolutional (or pooling) layer.

After each step's integration, among the positions ``(row, col)`` that have not spiked yet in
this sample, every position with at least one map at or above the threshold emits exactly one
spike, in the map with the highest potential (ties to the lowest map index); the position is
then silent for the rest of the sample (docs/original/stdp.md#lateral-inhibition). Hence at
most one spike per position per sample. The argmax map is always above threshold itself.

With inhibition off every neuron spikes once, at its own first crossing (the original let a
neuron spike again on every later step; docs/original/stdp.md#lateral-inhibition).
"""

from __future__ import annotations

import numba as nb

__all__ = ["fire_step"]


@nb.njit(cache=True)
def fire_step(touched, nt, v, inc, fired, theta, strict, inhibition, s_pos, s_map, s_val):
    """Add ``inc`` to the potentials ``v`` (positions, maps) of the ``nt`` touched positions
    and list the step's new spikes in ``s_pos`` / ``s_map`` / ``s_val`` (position, map,
    potential); returns their number.

    The threshold test is ``V >= theta`` (``strict``: ``V > theta``). With ``inhibition``,
    ``fired`` is per position and a position spikes once, in its argmax map; without, ``fired``
    is per neuron (``pos * C + map``) and each neuron spikes at its first crossing. Untouched
    positions cannot newly cross: potentials only grow where input arrives.

    >>> import numpy as np
    >>> v = np.zeros((2, 3), np.float32)
    >>> inc = np.array([[16.0, 17.0, 17.0], [3.0, 20.0, 1.0]], np.float32)
    >>> touched = np.array([0, 1], np.int32); fired = np.zeros(2, np.bool_)
    >>> s_pos, s_map = np.empty(6, np.int32), np.empty(6, np.int32)
    >>> s_val = np.empty(6, np.float32)
    >>> ns = fire_step(touched, 2, v, inc, fired, 15.0, False, True, s_pos, s_map, s_val)
    >>> ns, s_map[:ns].tolist(), fired.tolist()      # argmax map; the tie 17/17 -> map 1
    (2, [1, 1], [True, True])
    """
    c_out = v.shape[1]
    ns = 0
    for q in range(nt):
        pos = touched[q]
        for m in range(c_out):
            v[pos, m] += inc[pos, m]
        if inhibition:
            if fired[pos]:
                continue
            best = v[pos, 0]
            bm = 0
            for m in range(1, c_out):
                if v[pos, m] > best:
                    best = v[pos, m]
                    bm = m
            if best > theta or (not strict and best == theta):
                fired[pos] = True
                s_pos[ns] = pos
                s_map[ns] = bm
                s_val[ns] = best
                ns += 1
        else:
            for m in range(c_out):
                x = v[pos, m]
                if not fired[pos * c_out + m] and (x > theta or (not strict and x == theta)):
                    fired[pos * c_out + m] = True
                    s_pos[ns] = pos
                    s_map[ns] = m
                    s_val[ns] = x
                    ns += 1
    return ns
