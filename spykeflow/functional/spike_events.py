"""Sparse event form of a batch of spike trains, used between the STDP network's layers.

An encoded image has ~260 input spikes among 27*27*2*12 = 17,496 neuron-steps, and a Conv1 layer
at most one spike per position; dense ``(N, T, H, W, C)`` tensors are >98 % zeros. The network
therefore passes spikes between layers as events, grouped per sample and sorted by time step::

    ptr  (n + 1,) int64   events of sample i are ptr[i]:ptr[i+1]
    t    (E,)     int32   time step, non-decreasing within a sample
    idx  (E,)     int32   flat neuron index (row * W + col) * C + channel of the (H, W, C) grid,
                          increasing within a step of a sample
    val  (E,)     float32 the neuron's potential when it spiked (1 for input spikes)

A neuron may spike at several steps (e.g. transient pool spikes); at most once per step.
"""

from __future__ import annotations

from typing import NamedTuple

import numba as nb
import numpy as np

__all__ = ["SpikeEvents", "FEATURE_DTYPES", "from_dense", "from_first_spike", "pad", "to_dense",
           "to_features", "unravel", "slots", "compact", "sort_step"]


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
    """Events of bool spike trains ``(n, T, H, W, C)`` (any non-zero value is a spike).

    One compiled pass per sample counts, a second writes the events; samples run in parallel
    (``numba.prange``, on the ``n_jobs`` threads of :class:`spykeflow.Network`).

    >>> s = np.zeros((2, 2, 1, 2, 1), bool); s[0, 1, 0, 1, 0] = s[1, 0, 0, 0, 0] = True
    >>> e = from_dense(s); e.ptr.tolist(), e.t.tolist(), e.idx.tolist()
    ([0, 1, 2], [1, 0], [1, 0])
    """
    s = np.asarray(spikes)
    n, T = s.shape[:2]
    if s.dtype != np.bool_:
        s = s != 0
    flat = np.ascontiguousarray(s).reshape(n, -1).view(np.uint8)
    width = flat.shape[1] // T if T else 0
    # bool bytes are 0 or 1: eight at a time as one 64-bit word skip the empty stretches
    words = flat.view(np.uint64) if flat.shape[1] % 8 == 0 else np.zeros((n, 0), np.uint64)
    counts = np.empty(n, np.int64)
    _dense_counts(flat, words, counts)
    ptr = _ptr_from_counts(counts)
    t = np.empty(ptr[-1], np.int32)
    idx = np.empty(ptr[-1], np.int32)
    _dense_fill(flat, words, ptr, max(width, 1), t, idx)
    return SpikeEvents(ptr, t, idx, np.ones(idx.shape[0], np.float32), tuple(s.shape[1:]))


@nb.njit(cache=True, parallel=True)
def _dense_counts(flat, words, counts):
    n, length = flat.shape
    n_words = words.shape[1]
    for i in nb.prange(n):
        c = 0
        for k in range(n_words):
            wd = words[i, k]
            if wd != 0:
                c += (wd * np.uint64(0x0101010101010101)) >> np.uint64(56)
        for j in range(n_words * 8, length):
            c += flat[i, j]
        counts[i] = c


@nb.njit(cache=True, parallel=True)
def _dense_fill(flat, words, ptr, width, t_out, idx_out):
    n, length = flat.shape
    n_words = words.shape[1]
    for i in nb.prange(n):
        e = ptr[i]
        for k in range(n_words):
            if words[i, k] == 0:
                continue
            for j in range(k * 8, k * 8 + 8):
                if flat[i, j]:
                    t_out[e] = j // width
                    idx_out[e] = j % width
                    e += 1
        for j in range(n_words * 8, length):
            if flat[i, j]:
                t_out[e] = j // width
                idx_out[e] = j % width
                e += 1


def from_first_spike(first, time_steps):
    """Events of the compact form: first-spike steps ``(n, H, W, C)`` int, -1 = never.

    Sorted by step, then index, within each sample (a counting sort per sample; samples in
    parallel).

    >>> f = np.array([[[[2], [0]]]], np.int8)          # (1, 1, 2, 1)
    >>> e = from_first_spike(f, 3); e.t.tolist(), e.idx.tolist()
    ([0, 2], [1, 0])
    """
    f = np.asarray(first)
    n = f.shape[0]
    time_steps = int(time_steps)
    flat = np.ascontiguousarray(f.reshape(n, -1))
    if flat.size and flat.max() >= time_steps:
        raise ValueError(f"First-spike times must lie in [-1, {time_steps - 1}]. "
                         f"Received: max={flat.max()}.")
    counts = np.empty(n, np.int64)
    _first_counts(flat, counts)
    ptr = _ptr_from_counts(counts)
    t = np.empty(ptr[-1], np.int32)
    idx = np.empty(ptr[-1], np.int32)
    _first_fill(flat, ptr, time_steps, t, idx)
    return SpikeEvents(ptr, t, idx, np.ones(idx.shape[0], np.float32),
                       (time_steps,) + tuple(f.shape[1:]))


@nb.njit(cache=True, parallel=True)
def _first_counts(flat, counts):
    n, length = flat.shape
    for i in nb.prange(n):
        c = 0
        for j in range(length):
            if flat[i, j] >= 0:
                c += 1
        counts[i] = c


@nb.njit(cache=True, parallel=True)
def _first_fill(flat, ptr, time_steps, t_out, idx_out):
    n, length = flat.shape
    for i in nb.prange(n):
        start = np.zeros(time_steps + 1, np.int64)     # counting sort by step
        for j in range(length):
            if flat[i, j] >= 0:
                start[flat[i, j] + 1] += 1
        start[0] = ptr[i]
        for s in range(1, time_steps + 1):
            start[s] += start[s - 1]
        for j in range(length):
            s = flat[i, j]
            if s >= 0:
                e = start[s]
                t_out[e] = s
                idx_out[e] = j
                start[s] = e + 1


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


def to_features(ev, values="binary", out=None):
    """Feature vectors ``(n, C*H*W)``, flattened map-major, from events
    (docs/original/stdp.md#feature-vectors).

    ``"binary"``: spiked at least once (uint8); ``"counts"``: number of spikes (int16);
    ``"first_spike_times"``: step of the first spike, -1 if none (int8). ``out``: a
    C-contiguous array of that shape and dtype to fill instead of a new one (e.g. the rows of
    a batch in a preallocated result); it is returned.

    >>> s = np.zeros((1, 3, 1, 1, 2), bool); s[0, 1:, 0, 0, 1] = True
    >>> ev = from_dense(s)
    >>> [to_features(ev, v)[0].tolist() for v in ("binary", "counts", "first_spike_times")]
    [[0, 1], [0, 2], [-1, 1]]
    """
    if values not in FEATURE_DTYPES:
        raise ValueError("Expected values in ('binary', 'counts', 'first_spike_times'). "
                         f"Received: values={values!r}.")
    n = ev.n
    _, h, w, c = ev.shape
    dtype = FEATURE_DTYPES[values]
    if out is None:
        out = np.empty((n, c * h * w), dtype)
    elif out.shape != (n, c * h * w) or out.dtype != dtype or not out.flags.c_contiguous:
        raise ValueError(f"Expected out to be a C-contiguous {np.dtype(dtype).name} array of "
                         f"shape {(n, c * h * w)}. Received: {out.dtype} {out.shape}.")
    _features_kernel(ev.ptr, ev.t, ev.idx, c, h * w, tuple(FEATURE_DTYPES).index(values), out)
    return out


#: dtype of each kind of feature value of :func:`to_features`.
FEATURE_DTYPES = {"binary": np.uint8, "counts": np.int16, "first_spike_times": np.int8}


@nb.njit(cache=True, parallel=True)
def _features_kernel(ptr, ev_t, ev_idx, c, hw, mode, out):
    # mode: 0 binary, 1 counts, 2 first_spike_times
    n = ptr.shape[0] - 1
    for i in nb.prange(n):
        row = out[i]
        row[:] = -1 if mode == 2 else 0
        for e in range(ptr[i], ptr[i + 1]):
            f = ev_idx[e]
            col = (f % c) * hw + f // c                  # map-major feature index
            if mode == 0:
                row[col] = 1
            elif mode == 1:
                row[col] += 1
            elif row[col] < 0 or ev_t[e] < row[col]:
                row[col] = ev_t[e]


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


@nb.njit(cache=True, parallel=True)
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
    for i in nb.prange(n):
        a, b = ptr_cap[i], ptr[i]
        for q in range(n_out[i]):
            tt[b + q] = t[a + q]
            ii[b + q] = idx[a + q]
            vv[b + q] = val[a + q]
    return ptr, tt, ii, vv


@nb.njit(cache=True)
def sort_step(idx, val, a, b):
    """Sort the events ``a..b-1`` of one step of one sample by neuron index (``val`` moves
    with ``idx``), so that events leave every kernel in the canonical order (step, index):
    the order in which the next layer adds their weights, which the dense path
    (:mod:`spykeflow.functional.dense_pass`) reproduces exactly.

    A Shell sort (gaps 701, 301, 132, 57, 23, 10, 4, 1): a step has a few dozen spikes, and
    loops compile in a fraction of the time ``np.argsort`` takes (~5 s) on first use.

    >>> idx = np.array([9, 3, 7, 1], np.int32); val = np.arange(4, dtype=np.float32)
    >>> sort_step(idx, val, 0, 4); idx.tolist(), val.tolist()
    ([1, 3, 7, 9], [3.0, 1.0, 2.0, 0.0])
    """
    n = b - a
    for gap in (701, 301, 132, 57, 23, 10, 4, 1):
        if gap >= n:
            continue
        for q in range(a + gap, b):
            key, kv = idx[q], val[q]
            r = q
            while r - gap >= a and idx[r - gap] > key:
                idx[r] = idx[r - gap]
                val[r] = val[r - gap]
                r -= gap
            idx[r] = key
            val[r] = kv
