"""Spike pooling, event-driven and compiled with Numba (docs/original/stdp.md#pooling).

The input is a convolutional layer's spikes valued by their potential (from
:func:`~spykeflow.functional.feature_pass.conv_events`). Pooling is ``size x size`` max with
stride ``stride``, valid (23 -> 11 for Conv1: the last row and column are dropped). A pool
neuron's potential is its window's pooled value; it spikes where that is at or above the
threshold. Modes:

* ``"transient"``: potential = this step's max; fires whenever an input newly spikes (<= 4
  spikes per sample for 2x2 pools);
* ``"accumulate"``: potential += this step's max; fires on every step from its first input on;
* ``"first_spike"``: fires at the first step any input spikes, then is silent (<= 1 per sample).

Binarised ``"transient"`` features equal ``"first_spike"`` features. With
``lateral_inhibition=True`` the pool potentials go through the same inhibition as a
convolutional layer: at most one spike per pool position per sample, in the argmax map.
Feature vectors are made by :func:`spykeflow.functional.spike_events.to_features`.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from .spike_events import SpikeEvents, compact, slots, sort_step, unravel

__all__ = ["POOL_MODES", "FEATURE_VALUES", "pool_events"]

#: Pooling modes (``SpikePool(mode=...)``, without ``"auto"``).
POOL_MODES = ("first_spike", "transient", "accumulate")
#: What a feature vector holds per neuron (:func:`~spykeflow.functional.spike_events.to_features`).
FEATURE_VALUES = ("binary", "counts", "first_spike_times")


@nb.njit(cache=True, parallel=True)
def _pool_kernel(ptr, ev_t, ev_idx, ev_val, hin, win, c, T, size, stride, mode, lateral, thetas,
                 strict, sort, ptr_cap, out_t, out_idx, out_val, n_out):
    # mode: index into POOL_MODES, 0 first_spike, 1 transient, 2 accumulate
    n = ptr.shape[0] - 1
    P, Q = (hin - size) // stride + 1, (win - size) // stride + 1
    pq = P * Q
    for i in nb.prange(n):
        cur = np.zeros(pq * c, np.float32)       # this step's pooled value (0 if no input)
        acc = np.zeros(pq * c, np.float32)       # accumulated pool potential
        stamp = np.full(pq * c, -1, np.int32)
        pstamp = np.full(pq, -1, np.int32)
        touched = np.empty(pq * c, np.int32)
        ptouched = np.empty(pq, np.int32)
        fired = np.zeros(pq * c, np.bool_)       # first_spike / accumulate-active per neuron
        pfired = np.zeros(pq, np.bool_)          # lateral inhibition per pool position
        active = np.empty(pq * c, np.int32)
        n_active = 0
        theta = thetas[i]
        e, e_end = ptr[i], ptr[i + 1]
        k_out = ptr_cap[i]
        for t in range(T):
            nt = 0
            npt = 0
            k_step = k_out
            while e < e_end and ev_t[e] == t:
                row, col, m = unravel(ev_idx[e], win, c)
                x = ev_val[e]
                r_lo = max(0, (row - size + stride) // stride)
                r_hi = min(P - 1, row // stride)
                c_lo = max(0, (col - size + stride) // stride)
                c_hi = min(Q - 1, col // stride)
                for pr in range(r_lo, r_hi + 1):
                    for pc in range(c_lo, c_hi + 1):
                        pp = pr * Q + pc
                        pn = pp * c + m
                        if stamp[pn] != t:
                            stamp[pn] = t
                            touched[nt] = pn
                            nt += 1
                            cur[pn] = x
                        elif x > cur[pn]:
                            cur[pn] = x
                        if pstamp[pp] != t:
                            pstamp[pp] = t
                            ptouched[npt] = pp
                            npt += 1
                e += 1
            if mode == 2:                      # accumulate
                for q in range(nt):
                    acc[touched[q]] += cur[touched[q]]
            if lateral:
                for q in range(npt):
                    pp = ptouched[q]
                    if pfired[pp]:
                        continue
                    best = -1.0
                    bm = 0
                    for m in range(c):
                        pn = pp * c + m
                        x = acc[pn] if mode == 2 else (cur[pn] if stamp[pn] == t else 0.0)
                        if x > best:
                            best = x
                            bm = m
                    if best > theta or (not strict and best == theta):
                        pfired[pp] = True
                        out_t[k_out] = t
                        out_idx[k_out] = pp * c + bm
                        out_val[k_out] = best
                        k_out += 1
            elif mode == 2:
                for q in range(nt):
                    pn = touched[q]
                    x = acc[pn]
                    if not fired[pn] and (x > theta or (not strict and x == theta)):
                        fired[pn] = True
                        active[n_active] = pn
                        n_active += 1
                for q in range(n_active):
                    out_t[k_out] = t
                    out_idx[k_out] = active[q]
                    out_val[k_out] = acc[active[q]]
                    k_out += 1
            else:
                for q in range(nt):
                    pn = touched[q]
                    x = cur[pn]
                    if x > theta or (not strict and x == theta):
                        if mode == 0:
                            if fired[pn]:
                                continue
                            fired[pn] = True
                        out_t[k_out] = t
                        out_idx[k_out] = pn
                        out_val[k_out] = x
                        k_out += 1
            if sort:
                sort_step(out_idx, out_val, k_step, k_out)
        n_out[i] = k_out - ptr_cap[i]


def pool_events(ev, thresholds, mode="first_spike", lateral_inhibition=False, size=2, stride=2,
                strict=False, sort=True):
    """Pool a conv layer's spikes; returns the pool spikes as events on ``(T, P, Q, C)``.

    ``ev`` holds a conv layer's spikes valued by their potential (from
    :func:`~spykeflow.functional.feature_pass.conv_events`);
    a pool neuron's potential is the max of its window's values at this step (``"transient"``,
    ``"first_spike"``) or their running sum (``"accumulate"``). Returns the pool spikes as
    SpikeEvents on ``(T, P, Q, C)`` valued by the pool potential, each step's events sorted by
    index unless ``sort=False`` (needed only when a conv layer reads them).

    >>> from spykeflow.functional.spike_events import from_dense, to_dense
    >>> x = np.zeros((1, 3, 2, 2, 1), bool); x[0, 0, 0, 0, 0] = x[0, 2, 1, 1, 0] = True
    >>> ev = from_dense(x)
    >>> theta = np.array([1.0], np.float32)
    >>> [to_dense(pool_events(ev, theta, m))[0, :, 0, 0, 0].astype(int).tolist()
    ...  for m in ("first_spike", "transient", "accumulate")]
    [[1, 0, 0], [1, 0, 1], [1, 1, 1]]
    """
    if mode not in POOL_MODES:
        raise ValueError(f"Expected pool_mode in {POOL_MODES}. Received: pool_mode={mode!r}.")
    T, hin, win, c = ev.shape
    P, Q = (hin - size) // stride + 1, (win - size) // stride + 1
    reach = (-(-size // stride)) ** 2                    # pool neurons one input can feed
    counts = np.diff(ev.ptr) * reach
    if lateral_inhibition:
        bound = P * Q
    elif mode == "accumulate":
        counts, bound = counts * T, P * Q * c * T
    else:
        bound = P * Q * c * T
    ptr_cap = slots(counts, bound)
    size_out = int(ptr_cap[-1])
    out_t, out_idx = np.empty(size_out, np.int32), np.empty(size_out, np.int32)
    out_val = np.empty(size_out, np.float32)
    n_out = np.zeros(ev.n, np.int64)
    _pool_kernel(ev.ptr, ev.t, ev.idx, ev.val, hin, win, c, T, int(size), int(stride),
                 POOL_MODES.index(mode), bool(lateral_inhibition),
                 np.ascontiguousarray(thresholds, np.float32), bool(strict), bool(sort), ptr_cap,
                 out_t, out_idx, out_val, n_out)
    ptr, t, idx, val = compact(ptr_cap, n_out, out_t, out_idx, out_val)
    return SpikeEvents(ptr, t, idx, val, (T, P, Q, c))


