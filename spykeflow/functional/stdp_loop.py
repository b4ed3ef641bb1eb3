"""Compiled, event-driven STDP training loop of one convolutional layer (reference 2.2-2.3).

This is the fast implementation of the per-sample, per-step algorithm (N1-N4, S1-S7) that
:class:`spykeflow.Network` uses, compiled with Numba. Samples are processed one after the other
(each sees the weights its predecessors left), steps in order within a sample.

Per step, every input spike ``(r, c, k)`` adds the kernel rows ``W[i, j, k, :]`` of the
*current* weights to the output positions ``(r - i, c - j)`` (the original's "integrate with the
weights of this step"); potentials are cumulative and never recomputed. Only positions touched
at this step can newly cross the threshold, so inhibition, homeostasis and competition work on
the short list of this step's new spikes, and steps without input skip all work. Weights are
stored as ``(kh*kw*C_in, C_out)`` (row ``(i*kw + j)*C_in + k``), potentials as
``(H_out*W_out, C_out)``.

Everything here is pure: state goes in, state comes out. The slow, obviously-correct reference
lives in ``tests/network/reference.py`` and the two are compared on random inputs.
"""

from __future__ import annotations

from typing import NamedTuple

import numba as nb
import numpy as np

from .feature_pass import fire_step, integrate_step

__all__ = ["LoopConfig", "train_chunk"]


class LoopConfig(NamedTuple):
    """Static configuration of the training loop."""

    in_shape: tuple          # (H_in, W_in, C_in)
    kernel: tuple            # (kh, kw)
    maps: int
    time_steps: int
    window: int
    strict: bool
    inhibition: bool
    competition: str         # "greedy_all" | "per_map_max"
    homeostasis: bool
    homeo_block: int
    homeo_limit: float       # block / factor
    homeo_decay: float
    count_first_image: bool
    end_of_image: bool
    original_steps: bool     # LR schedule doubling on global steps
    lr_period: int           # time_steps * lr_inc_rate - 1 (original_steps only)
    a_plus_max: float        # inf for no cap
    a_minus_ratio: float


def train_chunk(cfg, weights, ev, thetas, a_plus, image_in_epoch, counts, a_state, global_step):
    """Train on the samples of ``ev`` in order; returns the new state and per-sample records.

    Parameters
    ----------
    cfg : LoopConfig
    weights : ndarray (R, C) float32
        ``R = kh*kw*C_in`` rows, row index ``(i*kw + j)*C_in + k``.
    ev : SpikeEvents
        Input spikes of the ``n`` samples on ``(T, H_in, W_in, C_in)`` (a neuron may spike at
        several steps; each spike adds its weight).
    thetas, a_plus : ndarray (n,) float32
        Threshold and (image-boundary schedule) learning rate of each sample.
    image_in_epoch : ndarray (n,) int
        Per-epoch sample index (homeostasis blocks).
    counts : ndarray (C,) float32
        Homeostasis win counters.
    a_state : float
        Current A+ of the ``original_steps`` schedule (ignored otherwise).
    global_step : int
        Global step at the chunk's first step (``original_steps`` schedule).

    Returns
    -------
    dict with ``weights``, ``counts``, ``a_state``, ``win_pos`` (n, C) int32 flat output
    position of each map's winner (-1: none), ``win_step`` (n, C) int32 and ``spikes``
    (n,) int32 post-inhibition spikes per sample.
    """
    hin, win, cin = (int(v) for v in cfg.in_shape)
    kh, kw = (int(v) for v in cfg.kernel)
    W = np.array(weights, np.float32, copy=True).reshape(kh * kw * cin, cfg.maps)
    counts = np.array(counts, np.float32, copy=True)
    n = ev.n
    win_pos = np.full((n, cfg.maps), -1, np.int32)
    win_step = np.full((n, cfg.maps), -1, np.int32)
    nspk = np.zeros(n, np.int32)
    a_state = _train(
        W, counts, win_pos, win_step, nspk, ev.ptr, ev.t, ev.idx,
        np.ascontiguousarray(thetas, np.float32), np.ascontiguousarray(a_plus, np.float32),
        np.ascontiguousarray(image_in_epoch, np.int64), np.float32(a_state), np.int64(global_step),
        hin, win, cin, kh, kw, int(cfg.time_steps), int(cfg.window) // 2, bool(cfg.strict),
        bool(cfg.inhibition), cfg.competition == "greedy_all", bool(cfg.homeostasis),
        int(cfg.homeo_block), float(cfg.homeo_limit), np.float32(cfg.homeo_decay),
        bool(cfg.count_first_image), bool(cfg.end_of_image), bool(cfg.original_steps),
        int(cfg.lr_period), float(cfg.a_plus_max), np.float32(cfg.a_minus_ratio))
    return {"weights": W, "counts": counts, "a_state": np.float32(a_state), "win_pos": win_pos,
            "win_step": win_step, "spikes": nspk}


@nb.njit(cache=True)
def _train(W, counts, win_pos, win_step, nspk, ptr, ev_t, ev_idx, thetas, a_plus_img,
           img_in_epoch, a_state, g, hin, win, cin, kh, kw, T, h, strict, inhibition, greedy,
           homeostasis, homeo_block, homeo_limit, homeo_decay, count_first_image, end_of_image,
           original_steps, lr_period, a_plus_max, a_minus_ratio):
    n = ptr.shape[0] - 1
    R, C = W.shape
    ho, wo = hin - kh + 1, win - kw + 1
    hw = ho * wo
    n_in = hin * win * cin
    one = np.float32(1.0)
    V = np.zeros((hw, C), np.float32)
    inc = np.zeros((hw, C), np.float32)
    fired = np.zeros(hw * C, np.bool_)          # per position (inhibition) or per neuron
    A = np.ones((hw, C), np.bool_)              # learning allowed
    Xc = np.zeros(n_in, np.bool_)               # input fired at any step so far
    stamp = np.full(hw, -1, np.int64)
    touched = np.empty(hw, np.int32)
    s_pos = np.empty(hw * C, np.int32)          # this step's new spikes
    s_map = np.empty(hw * C, np.int32)
    s_val = np.empty(hw * C, np.float32)
    P = np.empty(hw * C, np.float32)            # competition scratch
    pm = np.empty(hw * C, np.int32)
    wp = np.empty(C, np.int32)
    best = np.empty(C, np.float32)
    bpos = np.empty(C, np.int32)
    pend_pre = np.zeros((R, C), np.bool_)
    pend_a = np.zeros(C, np.float32)
    step_id = np.int64(0)
    for i in range(n):
        theta = thetas[i]
        first_of_block = img_in_epoch[i] % homeo_block == 0
        if homeostasis and count_first_image and first_of_block:
            counts[:] = 0
        a_img = a_plus_img[i]
        V[:] = 0
        fired[:] = False
        A[:] = True
        Xc[:] = False
        pend_a[:] = 0
        e, e_end = ptr[i], ptr[i + 1]
        for t in range(T):
            step_id += 1
            if homeostasis and not count_first_image and first_of_block:
                counts[:] = 0
            a_now = a_state if original_steps else a_img
            if e < e_end and ev_t[e] == t:
                # N2-N4: integrate this step's input with the current weights, fire, inhibit
                e0 = e
                e, nt = integrate_step(e, e_end, ev_t, ev_idx, W, win, cin, kh, kw, ho, wo,
                                       stamp, step_id, touched, inc)
                for q in range(e0, e):
                    Xc[ev_idx[q]] = True
                ns = fire_step(touched, nt, V, inc, fired, theta, strict, inhibition,
                               s_pos, s_map, s_val)
                nspk[i] += ns
                # S1: candidates K = S * V * A
                any_k = False
                for q in range(ns):
                    if A[s_pos[q], s_map[q]] and s_val[q] > 0:
                        any_k = True
                    else:
                        s_val[q] = 0
                # S2: homeostasis
                if homeostasis and any_k:
                    for m in range(C):
                        if counts[m] > homeo_limit:
                            for q in range(ns):
                                if s_map[q] == m:
                                    s_val[q] = 0
                            dec = homeo_decay
                            for r in range(R):
                                W[r, m] = W[r, m] - dec * W[r, m] * (one - W[r, m])
                # S3: competition
                if greedy:
                    nw = _greedy_all(s_pos, s_map, s_val, ns, C, wo, h, inhibition, P, pm, wp)
                else:
                    nw = _per_map_max(s_pos, s_map, s_val, ns, C, wo, h, best, bpos, wp)
                if nw > 0:
                    # S4: persistent blocks
                    for m in range(C):
                        if wp[m] < 0:
                            continue
                        r0, c0 = wp[m] // wo, wp[m] % wo
                        for rr in range(max(0, r0 - h), min(ho, r0 + h + 1)):
                            for cc in range(max(0, c0 - h), min(wo, c0 + h + 1)):
                                for mm in range(C):
                                    A[rr * wo + cc, mm] = False
                        for pos in range(hw):
                            A[pos, m] = False
                    # S5/S6: STDP of each winner's kernel
                    a_minus = a_now * a_minus_ratio
                    for m in range(C):
                        if wp[m] < 0:
                            continue
                        win_pos[i, m] = wp[m]
                        win_step[i, m] = t
                        r0, c0 = wp[m] // wo, wp[m] % wo
                        for ii in range(kh):
                            for jj in range(kw):
                                base = ((r0 + ii) * win + c0 + jj) * cin
                                for k in range(cin):
                                    wrow = (ii * kw + jj) * cin + k
                                    pre = Xc[base + k]
                                    if end_of_image:
                                        pend_pre[wrow, m] = pre
                                    else:
                                        wv = W[wrow, m]
                                        a = a_now if pre else -a_minus
                                        W[wrow, m] = wv + a * wv * (one - wv)
                        if end_of_image:
                            pend_a[m] = a_now
                        if homeostasis:
                            counts[m] += 1
            if original_steps:
                if g % lr_period == 0:
                    a_state = np.float32(min(2.0 * a_state, a_plus_max))
            g += 1
        if end_of_image:
            for m in range(C):
                if pend_a[m] > 0:
                    am = pend_a[m] * a_minus_ratio
                    for r in range(R):
                        wv = W[r, m]
                        a = pend_a[m] if pend_pre[r, m] else -am
                        W[r, m] = wv + a * wv * (one - wv)
    return a_state


@nb.njit(cache=True)
def _greedy_all(s_pos, s_map, s_val, ns, C, wo, h, one_per_position, P, pm, wp):
    """S3, the original's form: repeatedly take the global maximum of P (per position: the
    maximum of K over maps, M its lowest-index argmax), first row-major position on ties; that
    map wins there; P is cleared wherever M is the winner's map and in the winner's window.

    Works on this step's new spikes (entries ``q < ns``); several entries share a position
    only without lateral inhibition. ``pm[q]`` is M at entry q's position."""
    wp[:] = -1
    for q in range(ns):
        P[q] = s_val[q]
        pm[q] = s_map[q] if one_per_position else _position_map(s_pos, s_map, s_val, ns, q)
    nw = 0
    for _ in range(C):
        bq = -1
        bv = np.float32(0.0)
        for q in range(ns):
            v = P[q]
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
            if P[q] > 0 and (pm[q] == m or (abs(s_pos[q] // wo - r0) <= h
                                            and abs(s_pos[q] % wo - c0) <= h)):
                P[q] = 0
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
def _per_map_max(s_pos, s_map, s_val, ns, C, wo, h, best, bpos, wp):
    """S3, the paper's form: each map's maximum K (lowest position on ties), taken in
    decreasing order (then lower position, then lower map); a map's maximum inside the window
    of an earlier winner of this step is dropped."""
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
    for _ in range(C):
        bm = -1
        for m in range(C):
            if bpos[m] < 0:
                continue
            if bm < 0 or best[m] > best[bm] or (best[m] == best[bm] and bpos[m] < bpos[bm]):
                bm = m
        if bm < 0:
            break
        r0, c0 = bpos[bm] // wo, bpos[bm] % wo
        blocked = False
        for m in range(C):
            if wp[m] >= 0 and abs(wp[m] // wo - r0) <= h and abs(wp[m] % wo - c0) <= h:
                blocked = True
        if not blocked:
            wp[bm] = bpos[bm]
            nw += 1
        bpos[bm] = -1
    return nw
