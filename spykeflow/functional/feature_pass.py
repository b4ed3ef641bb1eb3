"""Inference pass of a frozen STDP convolutional layer, event-driven and compiled with Numba:
integrate-and-fire with lateral inhibition, no competition and no learning
(docs/original/stdp.md#feature-pass).

The pass reads and writes :class:`~spykeflow.functional.spike_events.SpikeEvents` and runs the
same per-step kernels as training (:func:`~spykeflow.functional.integrate_fire.integrate_step`,
:func:`~spykeflow.functional.inhibition.fire_step`). An MNIST image (~260 input spikes) costs
~200k additions instead of the ~9.5M multiply-adds of a dense convolution of its 12 frames.

Samples run in parallel (``numba.prange``; the ``n_jobs`` of :class:`spykeflow.Network` sets
the thread count). Results do not depend on the
thread count. Output events are sorted by (step, index) within each sample (unless
``sort=False``), the order in which a next layer adds their weights
(:mod:`spykeflow.functional.dense_pass` reproduces it).
"""

from __future__ import annotations

import numba as nb
import numpy as np

from .inhibition import fire_step
from .integrate_fire import integrate_step
from .spike_events import SpikeEvents, compact, slots, sort_step

__all__ = ["conv_events", "max_potentials", "flush_subnormal"]


def flush_subnormal(weights):
    """Float32 weights with every value below the smallest normal float32 (1.2e-38) set to 0,
    as a GPU in flush-to-zero mode would read them; both inference paths (this one and
    :mod:`spykeflow.functional.dense_pass`) use these weights.

    >>> flush_subnormal(np.array([1e-40, 0.5], np.float32)).tolist()
    [0.0, 0.5]
    """
    w = np.asarray(weights, np.float32)
    return np.where(np.abs(w) < np.finfo(np.float32).tiny, np.float32(0), w).astype(np.float32)


@nb.njit(cache=True, parallel=True)
def _conv_kernel(ptr, ev_t, ev_idx, w, hin, win, kh, kw, thetas, strict, inhibition, sort,
                 ptr_cap, out_t, out_idx, out_val, n_out):
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
            k_step = k_out
            for q in range(ns):
                out_t[k_out] = t
                out_idx[k_out] = s_pos[q] * c_out + s_map[q]
                out_val[k_out] = s_val[q]
                k_out += 1
            if sort:
                sort_step(out_idx, out_val, k_step, k_out)
        n_out[i] = k_out - ptr_cap[i]


def conv_events(ev, weights, thresholds, strict=False, inhibition=True, sort=True):
    """Spikes of a frozen conv layer as events valued by their potential.

    Parameters
    ----------
    ev : SpikeEvents
        Input spikes on a ``(T, H, W, C_in)`` grid.
    weights : ndarray (kh, kw, C_in, C_out), non-negative
        Values below the smallest normal float32 count as 0
        (:func:`flush_subnormal`).
    thresholds : ndarray (n,) float32, one per sample
    strict : bool
        Threshold test ``V > theta`` instead of ``V >= theta``.
    inhibition : bool
        Lateral inhibition (one spike per position per sample, argmax map, ties to the lowest
        index); off: every neuron spikes once, at its first crossing.
    sort : bool
        Emit each step's events sorted by index (the canonical order, in which a next conv
        layer sums them); False saves that work when the order does not matter (a pool, the
        features).

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
    w = np.ascontiguousarray(flush_subnormal(weights))
    T, hin, win, _ = ev.shape
    kh, kw, _, c_out = w.shape
    hw = (hin - kh + 1) * (win - kw + 1)
    per_event = kh * kw * (1 if inhibition else c_out)
    ptr_cap = slots(np.diff(ev.ptr) * per_event, hw if inhibition else hw * c_out)
    size = int(ptr_cap[-1])
    out_t, out_idx = np.empty(size, np.int32), np.empty(size, np.int32)
    out_val = np.empty(size, np.float32)
    n_out = np.zeros(ev.n, np.int64)
    _conv_kernel(ev.ptr, ev.t, ev.idx, w.reshape(kh * kw * w.shape[2], c_out), hin, win, kh, kw,
                 np.ascontiguousarray(thresholds, np.float32), bool(strict), bool(inhibition),
                 bool(sort), ptr_cap, out_t, out_idx, out_val, n_out)
    ptr, t, idx, val = compact(ptr_cap, n_out, out_t, out_idx, out_val)
    return SpikeEvents(ptr, t, idx, val, (T, hin - kh + 1, win - kw + 1, c_out))


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
    w = np.ascontiguousarray(flush_subnormal(weights))
    _, hin, win, _ = ev.shape
    kh, kw, cin, c_out = w.shape
    out = np.zeros((ev.n, c_out), np.float32)
    _max_potential_kernel(ev.ptr, ev.t, ev.idx, w.reshape(kh * kw * cin, c_out), hin, win, kh, kw,
                          out)
    return out
