"""Lateral inhibition between the maps of a convolutional (or pooling) layer (reference N4, P2).

At each time step, among positions ``(row, col)`` that have not spiked yet in this sample, every
position with at least one above-threshold map emits exactly one spike, in the map with the
**highest potential** (ties to the lowest map index); the position is then silent for the rest of
the sample. Hence at most one spike per position per sample, at the first step on which any map
there crossed the threshold. The argmax map is always above threshold itself.

With inhibition off (``inhibition=False``) every neuron spikes once, at its own first crossing
(the toolkit's definition; the original let a neuron spike again on every later step).
"""

from __future__ import annotations

import numpy as np

__all__ = ["argmax_lowest", "lateral_inhibition", "first_crossing", "inhibit_sequence"]


def argmax_lowest(values, axis=-1):
    """Argmax along ``axis`` with ties going to the lowest index (made explicit, not implied).

    >>> argmax_lowest(np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]])).tolist()
    [1, 0]
    """
    values = np.asarray(values)
    return np.argmax(values == values.max(axis=axis, keepdims=True), axis=axis)


def lateral_inhibition(potentials, candidates, fired):
    """One step of lateral inhibition over maps.

    Parameters
    ----------
    potentials : ndarray (H, W, C)
        Cumulative potentials after this step's integration.
    candidates : ndarray of bool (H, W, C)
        Neurons above threshold this step.
    fired : ndarray of bool (H, W)
        Positions that already spiked in this sample.

    Returns
    -------
    spikes : ndarray of bool (H, W, C)
        New spikes: one per position that had a candidate and had not fired, in the argmax map.
    fired : ndarray of bool (H, W)
        Updated position mask.

    >>> v = np.array([[[16.0, 17.0, 17.0]], [[3.0, 20.0, 1.0]]])      # (2, 1, 3)
    >>> s, f = lateral_inhibition(v, v >= 15, np.array([[False], [False]]))
    >>> s.astype(int).tolist(), f.tolist()
    ([[[0, 1, 0]], [[0, 1, 0]]], [[True], [True]])
    """
    potentials = np.asarray(potentials)
    active = np.asarray(candidates, bool).any(axis=-1) & ~np.asarray(fired, bool)
    winner = argmax_lowest(potentials, axis=-1)
    spikes = (winner[..., None] == np.arange(potentials.shape[-1])) & active[..., None]
    return spikes, np.asarray(fired, bool) | active


def first_crossing(candidates, spiked):
    """Inhibition off: neurons spike once, at their first crossing. Returns ``(spikes, spiked)``.

    >>> s, sp = first_crossing(np.array([True, True]), np.array([True, False]))
    >>> s.tolist(), sp.tolist()
    ([False, True], [True, True])
    """
    candidates = np.asarray(candidates, bool)
    spiked = np.asarray(spiked, bool)
    return candidates & ~spiked, spiked | candidates


def inhibit_sequence(potentials, threshold, strict=False, inhibition=True):
    """Spikes of a whole sample (or batch) with inhibition, from its potentials of every step.

    Vectorised equivalent of applying :func:`lateral_inhibition` (or :func:`first_crossing`)
    step by step. ``potentials`` is ``(..., T, H, W, C)``; ``threshold`` a scalar or an array
    broadcastable to the leading axes ``(...,)``. Returns bool spikes of the same shape.

    >>> v = np.zeros((3, 1, 2, 2), np.float32)      # T=3, H=1, W=2, C=2
    >>> v[1:, 0, 0] = [15.0, 16.0]; v[2, 0, 1] = [20.0, 20.0]
    >>> s = inhibit_sequence(v, 15.0)
    >>> np.argwhere(s).tolist()                      # (t, row, col, map)
    [[1, 0, 0, 1], [2, 0, 1, 0]]
    """
    v = np.asarray(potentials)
    theta = np.asarray(threshold, v.dtype).reshape(np.shape(threshold) + (1,) * 4)
    cand = v > theta if strict else v >= theta
    t_axis = v.ndim - 4
    if not inhibition:
        first = np.cumsum(cand, axis=t_axis) == 1
        return cand & first
    any_c = cand.any(axis=-1)                                   # (..., T, H, W)
    new = any_c & (np.cumsum(any_c, axis=t_axis) == 1)          # first step per position
    winner = argmax_lowest(v, axis=-1)                          # (..., T, H, W)
    return new[..., None] & (winner[..., None] == np.arange(v.shape[-1]))
