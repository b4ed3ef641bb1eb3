"""Sparse event form of a batch of spike trains, used between the STDP network's layers.

An encoded image has ~260 input spikes among 27*27*2*12 = 17,496 neuron-steps, and a Conv1 layer
at most one spike per position; dense ``(N, T, H, W, C)`` tensors are >98 % zeros. The network
therefore passes spikes between layers as events, grouped per sample and sorted by time step::

    ptr  (n + 1,) int64   events of sample i are ptr[i]:ptr[i+1]
    t    (E,)     int32   time step, non-decreasing within a sample
    idx  (E,)     int32   flat neuron index (row * W + col) * C + channel of the (H, W, C) grid
    val  (E,)     float32 the neuron's potential when it spiked (1 for input spikes)

A neuron may spike at several steps (e.g. transient pool spikes); at most once per step.
"""

from __future__ import annotations

from typing import NamedTuple

import numba as nb
import numpy as np

__all__ = ["SpikeEvents", "from_dense", "from_first_spike", "pad", "to_dense", "to_features",
           "unravel", "slots", "compact"]


class SpikeEvents(NamedTuple):
    """Events of ``n`` samples on a ``(T, H, W, C)`` grid (see the module docstring)."""

    ptr: np.ndarray
    t: np.ndarray
    idx: np.ndarray
    val: np.ndarray
    shape: tuple          # (T, H, W, C)

    @property
    def n(self):
        return self.ptr.shape[0] - 1


def _ptr_from_counts(counts):
    ptr = np.zeros(counts.shape[0] + 1, np.int64)
    np.cumsum(counts, out=ptr[1:])
    return ptr


def from_dense(spikes):
    """Events of bool spike trains ``(n, T, H, W, C)``.

    >>> s = np.zeros((2, 2, 1, 2, 1), bool); s[0, 1, 0, 1, 0] = s[1, 0, 0, 0, 0] = True
    >>> e = from_dense(s); e.ptr.tolist(), e.t.tolist(), e.idx.tolist()
    ([0, 1, 2], [1, 0], [1, 0])
    """
    s = np.asarray(spikes)
    n, T = s.shape[:2]
    img, t, idx = np.nonzero(s.reshape(n, T, -1))
    ptr = _ptr_from_counts(np.bincount(img, minlength=n))
    return SpikeEvents(ptr, t.astype(np.int32), idx.astype(np.int32),
                       np.ones(idx.shape[0], np.float32), tuple(s.shape[1:]))


def from_first_spike(first, time_steps):
    """Events of the compact form: first-spike steps ``(n, H, W, C)`` int, -1 = never.

    >>> f = np.array([[[[2], [0]]]], np.int8)          # (1, 1, 2, 1)
    >>> e = from_first_spike(f, 3); e.t.tolist(), e.idx.tolist()
    ([0, 2], [1, 0])
    """
    f = np.asarray(first)
    n = f.shape[0]
    flat = f.reshape(n, -1)
    img, idx = np.nonzero(flat >= 0)
    t = flat[img, idx].astype(np.int32)
    order = np.lexsort((idx, t, img))          # by sample, then step, then index
    ptr = _ptr_from_counts(np.bincount(img, minlength=n))
    return SpikeEvents(ptr, t[order], idx[order].astype(np.int32),
                       np.ones(idx.shape[0], np.float32), (int(time_steps),) + tuple(f.shape[1:]))


def pad(ev, p):
    """The same events on a grid with ``p`` silent rows/columns added on every side.

    >>> e = pad(from_dense(np.ones((1, 1, 1, 1, 2), bool)), 1)
    >>> e.shape, e.idx.tolist()                   # (1, 1) of a 3x3 grid, channels 0 and 1
    ((1, 3, 3, 2), [8, 9])
    """
    if p == 0:
        return ev
    T, h, w, c = ev.shape
    row, rest = np.divmod(ev.idx, w * c)
    col, k = np.divmod(rest, c)
    idx = ((row + p) * (w + 2 * p) + col + p) * c + k
    return SpikeEvents(ev.ptr, ev.t, idx.astype(np.int32), ev.val, (T, h + 2 * p, w + 2 * p, c))


def to_dense(ev):
    """Bool spike trains ``(n, T, H, W, C)`` of events ``ev``."""
    n = ev.n
    T = ev.shape[0]
    out = np.zeros((n, T, int(np.prod(ev.shape[1:]))), bool)
    img = np.repeat(np.arange(n), np.diff(ev.ptr))
    out[img, ev.t, ev.idx] = True
    return out.reshape((n,) + tuple(ev.shape))


def to_features(ev, values="binary"):
    """Feature vectors ``(n, C*H*W)``, flattened map-major, from events
    (docs/original/stdp.md#feature-vectors).

    ``"binary"``: spiked at least once (uint8); ``"counts"``: number of spikes (int16);
    ``"first_spike_times"``: step of the first spike, -1 if none (int8).

    >>> s = np.zeros((1, 3, 1, 1, 2), bool); s[0, 1:, 0, 0, 1] = True
    >>> ev = from_dense(s)
    >>> [to_features(ev, v)[0].tolist() for v in ("binary", "counts", "first_spike_times")]
    [[0, 1], [0, 2], [-1, 1]]
    """
    n = ev.n
    _, h, w, c = ev.shape
    hw = h * w
    img = np.repeat(np.arange(n), np.diff(ev.ptr))
    col = (ev.idx % c) * hw + ev.idx // c                        # map-major feature index
    if values == "binary":
        out = np.zeros((n, c * hw), np.uint8)
        out[img, col] = 1
    elif values == "counts":
        flat = img.astype(np.int64) * (c * hw) + col
        out = np.bincount(flat, minlength=n * c * hw).astype(np.int16).reshape(n, c * hw)
    elif values == "first_spike_times":
        out = np.full((n, c * hw), 127, np.int16)
        np.minimum.at(out, (img, col), ev.t.astype(np.int16))
        out = np.where(out == 127, -1, out).astype(np.int8)
    else:
        raise ValueError("Expected values in ('binary', 'counts', 'first_spike_times'). "
                         f"Received: values={values!r}.")
    return out


@nb.njit(cache=True)
def unravel(f, width, channels):
    """``(row, col, channel)`` of the flat index ``f`` of a ``(H, width, channels)`` grid.

    >>> unravel(13, 3, 2)                     # (2 * 3 + 0) * 2 + 1
    (2, 0, 1)
    """
    k = f % channels
    rc = f // channels
    return rc // width, rc % width, k


def slots(counts, bound):
    """Start of each sample's slot in an output buffer: ``min(counts, bound)`` entries per
    sample (an upper bound of the events a kernel can write for it); ``(n + 1,)`` int64."""
    cap = np.minimum(counts, bound).astype(np.int64)
    ptr_cap = np.zeros(cap.shape[0] + 1, np.int64)
    np.cumsum(cap, out=ptr_cap[1:])
    return ptr_cap


@nb.njit(cache=True)
def compact(ptr_cap, n_out, t, idx, val):
    """Concatenate the filled prefix (``n_out[i]`` events) of each sample's slot of the
    output buffers (slots start at ``ptr_cap``); returns ``(ptr, t, idx, val)``."""
    n = n_out.shape[0]
    ptr = np.zeros(n + 1, np.int64)
    for i in range(n):
        ptr[i + 1] = ptr[i] + n_out[i]
    tt = np.empty(ptr[n], np.int32)
    ii = np.empty(ptr[n], np.int32)
    vv = np.empty(ptr[n], np.float32)
    for i in range(n):
        a, b = ptr_cap[i], ptr[i]
        for q in range(n_out[i]):
            tt[b + q] = t[a + q]
            ii[b + q] = idx[a + q]
            vv[b + q] = val[a + q]
    return ptr, tt, ii, vv
