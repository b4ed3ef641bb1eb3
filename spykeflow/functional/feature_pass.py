"""Inference pass of a frozen STDP convolutional layer and of spike pooling (reference 2.4),
event-driven and compiled with Numba: no competition, no learning, lateral inhibition on (by
default).

Both passes read and write :class:`~spykeflow.functional.spike_events.SpikeEvents`. Per sample,
every input spike ``(r, c, k)`` at step ``t`` adds the kernel rows ``W[i, j, k, :]`` to the
potentials of the output positions ``(r - i, c - j)`` (the cumulative, non-leaky IF of N2:
potentials are never reset within a sample); only the positions touched at step ``t`` can newly
cross the threshold, so only they are checked. An MNIST image (~260 input spikes) costs ~200k
additions instead of the ~9.5M multiply-adds of a dense convolution of its 12 frames.

Samples run in parallel (``numba.prange``; ``NUMBA_NUM_THREADS`` or :func:`numba.set_num_threads`
sets the thread count). Results do not depend on the thread count.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from .pooling import POOL_MODES
from .spike_events import SpikeEvents

__all__ = ["conv_events", "pool_events", "max_potentials", "integrate_step", "fire_step"]


@nb.njit(cache=True)
def _compact(ptr_cap, n_out, t, idx, val):
    """Concatenate the filled prefix of each sample's slot of the output buffers."""
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


@nb.njit(cache=True)
def integrate_step(e, e_end, ev_t, ev_idx, w, win, cin, kh, kw, ho, wo, stamp, stamp_id,
                   touched, inc):
    """N2 for one step: sum the kernel rows ``w[(i*kw + j)*cin + k]`` of the step's input
    spikes (events ``e..`` with the step of event ``e``) into ``inc`` of every output position
    they feed. Returns ``(next event, nt)``; ``touched[:nt]`` lists the positions reached, each
    once (``stamp`` marks them with ``stamp_id``, which must be new for every step)."""
    t = ev_t[e]
    c_out = w.shape[1]
    nt = 0
    while e < e_end and ev_t[e] == t:
        f = ev_idx[e]
        k = f % cin
        rc = f // cin
        col = rc % win
        row = rc // win
        for ii in range(max(0, row - ho + 1), min(kh, row + 1)):
            for jj in range(max(0, col - wo + 1), min(kw, col + 1)):
                pos = (row - ii) * wo + col - jj
                wrow = (ii * kw + jj) * cin + k
                if stamp[pos] != stamp_id:
                    stamp[pos] = stamp_id
                    touched[nt] = pos
                    nt += 1
                    for m in range(c_out):
                        inc[pos, m] = w[wrow, m]
                else:
                    for m in range(c_out):
                        inc[pos, m] += w[wrow, m]
        e += 1
    return e, nt


@nb.njit(cache=True)
def fire_step(touched, nt, v, inc, fired, theta, strict, inhibition, s_pos, s_map, s_val):
    """N3/N4 for one step: add ``inc`` to the potentials ``v`` (positions, maps) of the touched
    positions and list the step's new spikes in ``s_pos``/``s_map``/``s_val`` (returns their
    number). With inhibition one spike per position and sample, in the argmax map (ties to the
    lowest index), ``fired`` per position; without, each neuron at its first crossing,
    ``fired`` per neuron. Untouched positions cannot newly cross: potentials only grow where
    input arrives."""
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


@nb.njit(cache=True, parallel=True)
def _conv_kernel(ptr, ev_t, ev_idx, w, hin, win, kh, kw, thetas, strict, inhibition, ptr_cap,
                 out_t, out_idx, out_val, n_out):
    n = ptr.shape[0] - 1
    cin = w.shape[0] // (kh * kw)
    c_out = w.shape[1]
    ho, wo = hin - kh + 1, win - kw + 1
    hw = ho * wo
    for i in nb.prange(n):
        v = np.zeros((hw, c_out), np.float32)
        inc = np.zeros((hw, c_out), np.float32)
        fired = np.zeros(hw if inhibition else hw * c_out, np.bool_)
        stamp = np.full(hw, -1, np.int32)
        touched = np.empty(hw, np.int32)
        s_pos = np.empty(hw * c_out, np.int32)
        s_map = np.empty(hw * c_out, np.int32)
        s_val = np.empty(hw * c_out, np.float32)
        e, e_end = ptr[i], ptr[i + 1]
        k_out = ptr_cap[i]
        while e < e_end:
            t = ev_t[e]
            e, nt = integrate_step(e, e_end, ev_t, ev_idx, w, win, cin, kh, kw, ho, wo, stamp, t,
                                   touched, inc)
            ns = fire_step(touched, nt, v, inc, fired, thetas[i], strict, inhibition,
                           s_pos, s_map, s_val)
            for q in range(ns):
                out_t[k_out] = t
                out_idx[k_out] = s_pos[q] * c_out + s_map[q]
                out_val[k_out] = s_val[q]
                k_out += 1
        n_out[i] = k_out - ptr_cap[i]


def _capacity(counts, bound):
    cap = np.minimum(counts, bound).astype(np.int64)
    ptr_cap = np.zeros(cap.shape[0] + 1, np.int64)
    np.cumsum(cap, out=ptr_cap[1:])
    return ptr_cap


def conv_events(ev, weights, thresholds, strict=False, inhibition=True):
    """Spikes of a frozen conv layer as events valued by their potential.

    Parameters
    ----------
    ev : SpikeEvents
        Input spikes on a ``(T, H, W, C_in)`` grid.
    weights : ndarray (kh, kw, C_in, C_out), non-negative
    thresholds : ndarray (n,) float32, one per sample
    strict : bool
        Threshold test ``V > theta`` instead of ``V >= theta``.
    inhibition : bool
        Lateral inhibition N4 (one spike per position per sample, argmax map, ties to the lowest
        index); off: every neuron spikes once, at its first crossing.

    Returns
    -------
    SpikeEvents on ``(T, H-kh+1, W-kw+1, C_out)``; ``val`` is the potential at the spike.

    >>> from spykeflow.functional.spike_events import from_dense, to_dense
    >>> s = np.zeros((1, 3, 2, 2, 1), bool); s[0, 1, :, :, 0] = True
    >>> w = np.full((2, 2, 1, 2), 0.5, np.float32); w[..., 1] = 0.6
    >>> out = conv_events(from_dense(s), w, np.array([2.0], np.float32))
    >>> out.t.tolist(), out.idx.tolist(), [round(float(v), 3) for v in out.val]
    ([1], [1], [2.4])
    """
    w = np.ascontiguousarray(weights, np.float32)
    T, hin, win, _ = ev.shape
    kh, kw, _, c_out = w.shape
    hw = (hin - kh + 1) * (win - kw + 1)
    per_event = kh * kw * (1 if inhibition else c_out)
    ptr_cap = _capacity(np.diff(ev.ptr) * per_event, hw if inhibition else hw * c_out)
    size = int(ptr_cap[-1])
    out_t, out_idx = np.empty(size, np.int32), np.empty(size, np.int32)
    out_val = np.empty(size, np.float32)
    n_out = np.zeros(ev.n, np.int64)
    _conv_kernel(ev.ptr, ev.t, ev.idx, w.reshape(kh * kw * w.shape[2], c_out), hin, win, kh, kw,
                 np.ascontiguousarray(thresholds, np.float32), bool(strict), bool(inhibition),
                 ptr_cap, out_t, out_idx, out_val, n_out)
    ptr, t, idx, val = _compact(ptr_cap, n_out, out_t, out_idx, out_val)
    return SpikeEvents(ptr, t, idx, val, (T, hin - kh + 1, win - kw + 1, c_out))


@nb.njit(cache=True, parallel=True)
def _pool_kernel(ptr, ev_t, ev_idx, ev_val, hin, win, c, T, size, stride, mode, lateral, thetas,
                 strict, ptr_cap, out_t, out_idx, out_val, n_out):
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
            while e < e_end and ev_t[e] == t:
                f = ev_idx[e]
                m = f % c
                rc = f // c
                col = rc % win
                row = rc // win
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
        n_out[i] = k_out - ptr_cap[i]


def pool_events(ev, thresholds, mode="first_spike", lateral_inhibition=False, size=2, stride=2,
                strict=False):
    """Pool spikes (event form of :func:`spykeflow.functional.pooling.spike_pool`).

    ``ev`` holds a conv layer's spikes valued by their potential (from :func:`conv_events`);
    a pool neuron's potential is the max of its window's values at this step (``"transient"``,
    ``"first_spike"``) or their running sum (``"accumulate"``). Returns the pool spikes as
    SpikeEvents on ``(T, P, Q, C)`` valued by the pool potential.

    >>> from spykeflow.functional.spike_events import from_dense, to_dense
    >>> x = np.zeros((1, 3, 2, 2, 1), bool); x[0, 0, 0, 0, 0] = x[0, 2, 1, 1, 0] = True
    >>> ev = from_dense(x)
    >>> [to_dense(pool_events(ev, np.array([1.0], np.float32), m))[0, :, 0, 0, 0].astype(int).tolist()
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
    ptr_cap = _capacity(counts, bound)
    size_out = int(ptr_cap[-1])
    out_t, out_idx = np.empty(size_out, np.int32), np.empty(size_out, np.int32)
    out_val = np.empty(size_out, np.float32)
    n_out = np.zeros(ev.n, np.int64)
    _pool_kernel(ev.ptr, ev.t, ev.idx, ev.val, hin, win, c, T, int(size), int(stride),
                 POOL_MODES.index(mode), bool(lateral_inhibition),
                 np.ascontiguousarray(thresholds, np.float32), bool(strict), ptr_cap,
                 out_t, out_idx, out_val, n_out)
    ptr, t, idx, val = _compact(ptr_cap, n_out, out_t, out_idx, out_val)
    return SpikeEvents(ptr, t, idx, val, (T, P, Q, c))


@nb.njit(cache=True, parallel=True)
def _max_potential_kernel(ptr, ev_t, ev_idx, w, hin, win, kh, kw, out):
    n = ptr.shape[0] - 1
    cin = w.shape[0] // (kh * kw)
    c_out = w.shape[1]
    ho, wo = hin - kh + 1, win - kw + 1
    hw = ho * wo
    for i in nb.prange(n):
        v = np.zeros((hw, c_out), np.float32)
        inc = np.zeros((hw, c_out), np.float32)
        stamp = np.full(hw, -1, np.int32)
        touched = np.empty(hw, np.int32)
        e, e_end = ptr[i], ptr[i + 1]
        step = 0
        while e < e_end:
            e, nt = integrate_step(e, e_end, ev_t, ev_idx, w, win, cin, kh, kw, ho, wo, stamp,
                                   step, touched, inc)
            step += 1
            for q in range(nt):
                for m in range(c_out):
                    v[touched[q], m] += inc[touched[q], m]
        for m in range(c_out):
            best = np.float32(0.0)
            for pos in range(hw):
                if v[pos, m] > best:
                    best = v[pos, m]
            out[i, m] = best


def max_potentials(ev, weights):
    """Global max pooling of a conv layer's final potentials: ``(n, C_out)`` float32, the
    largest potential of each map over positions at the end of the sample (every input spike
    integrated; no threshold, inhibition or reset). The features of Kheradpisheh et al. (2018),
    whose last layer's neurons do not fire.

    >>> from spykeflow.functional.spike_events import from_dense
    >>> s = np.zeros((1, 2, 2, 3, 1), bool); s[0, 0, :, :2] = s[0, 1, 0, 2] = True
    >>> w = np.full((2, 2, 1, 1), 0.5, np.float32)
    >>> max_potentials(from_dense(s), w).tolist()
    [[2.0]]
    """
    w = np.ascontiguousarray(weights, np.float32)
    _, hin, win, _ = ev.shape
    kh, kw, cin, c_out = w.shape
    out = np.zeros((ev.n, c_out), np.float32)
    _max_potential_kernel(ev.ptr, ev.t, ev.idx, w.reshape(kh * kw * cin, c_out), hin, win, kh, kw,
                          out)
    return out
