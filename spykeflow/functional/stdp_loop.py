"""Compiled, event-driven STDP training loop of one convolutional layer (reference 2.2-2.3).

This is the fast implementation of the per-sample, per-step algorithm (N1-N4, S1-S7) that
:class:`spykeflow.Network` uses. A whole chunk of samples runs inside one XLA-compiled
``tf.function`` (a ``tf.while_loop`` over samples and an inner one over steps), so Python is
called once per chunk, not per sample or step.

Per step the potential increment ``conv(x_t, W)`` is computed event by event: every input spike
``(r, c, k)`` adds the kernel rows ``W[i, j, k, :]`` to the output positions ``(r - i, c - j)``
(one gather + one segment sum). This always uses the *current* kernels, so the result equals
the original's "integrate with the weights of this step" semantics, and steps without input
skip all work. Weights are stored as ``(kh*kw*C_in, C_out)`` (row ``(i*kw + j)*C_in + k``),
potentials as ``(H_out*W_out, C_out)``.

Everything here is pure: state goes in, state comes out. The slow, obviously-correct reference
lives in ``tests/network/reference.py`` and the two are compared on random inputs.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["LoopConfig", "spike_lists", "train_chunk"]


class LoopConfig(NamedTuple):
    """Static configuration of the compiled loop (hashable; one compiled function per value)."""

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


def spike_lists(spikes, pad_to=None):
    """Per-step lists of flat input indices ``(r*W + c)*C + k`` for a chunk of spike trains.

    ``spikes`` is ``(n, T, H, W, C)`` bool (multiple spikes per neuron allowed: each spike is one
    entry at its step). Returns ``(n, T, S)`` int32 padded with -1, where ``S`` is the largest
    number of spikes in any step rounded up to a multiple of 32 (fewer recompilations).

    >>> s = np.zeros((1, 2, 2, 2, 1), bool); s[0, 1, 1, 0, 0] = s[0, 1, 0, 1, 0] = True
    >>> spike_lists(s)[0, :, :3].tolist()
    [[-1, -1, -1], [1, 2, -1]]
    """
    s = np.asarray(spikes, bool)
    n, t = s.shape[:2]
    flat = s.reshape(n * t, -1)
    counts = flat.sum(axis=1)
    width = int(counts.max()) if counts.size else 0
    width = max(32, -(-width // 32) * 32)
    if pad_to is not None:
        width = max(width, int(pad_to))
    out = np.full((n * t, width), -1, np.int32)
    rows, cols = np.nonzero(flat)
    if rows.size:
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        slot = np.arange(rows.size) - np.repeat(starts, counts)
        out[rows, slot] = cols
    return out.reshape(n, t, width)


_COMPILED = {}


def train_chunk(cfg, weights, spike_idx, n_valid, thetas, a_plus, image_in_epoch, counts,
                a_state, global_step, jit=True):
    """Train on a chunk of samples; returns the new state and per-sample records.

    Parameters
    ----------
    cfg : LoopConfig
    weights : ndarray (R, C) float32
        ``R = kh*kw*C_in`` rows, row index ``(i*kw + j)*C_in + k``.
    spike_idx : ndarray (n, T, S) int32
        From :func:`spike_lists`; rows beyond ``n_valid`` are ignored.
    thetas, a_plus : ndarray (n,) float32
        Threshold and (image-boundary schedule) learning rate of each sample.
    image_in_epoch : ndarray (n,) int32
        Per-epoch sample index (homeostasis blocks).
    counts : ndarray (C,) float32
        Homeostasis win counters.
    a_state : float
        Current A+ of the ``original_steps`` schedule (ignored otherwise).
    global_step : int
        Global step at the chunk's first step (``original_steps`` schedule).
    jit : bool
        Compile with XLA (fast loop, ~5 s CPU to compile per configuration) or run as a plain
        TensorFlow graph (cheap to build, slower per step; for small jobs). Both run the same
        operations.

    Returns
    -------
    dict with ``weights``, ``counts``, ``a_state``, ``win_pos`` (n, C) int32 flat output
    position of each map's winner (-1: none), ``win_step`` (n, C) int32 and ``spikes``
    (n,) int32 post-inhibition spikes per sample.
    """
    import tensorflow as tf

    key = (cfg, bool(jit))
    fn = _COMPILED.get(key)
    if fn is None:
        fn = _COMPILED[key] = _build(cfg, bool(jit))
    out = fn(
        tf.constant(weights, tf.float32),
        tf.constant(spike_idx, tf.int32),
        tf.constant(n_valid, tf.int32),
        tf.constant(thetas, tf.float32),
        tf.constant(a_plus, tf.float32),
        tf.constant(image_in_epoch, tf.int32),
        tf.constant(counts, tf.float32),
        tf.constant(a_state, tf.float32),
        tf.constant(global_step, tf.int64),
    )
    names = ("weights", "counts", "a_state", "win_pos", "win_step", "spikes")
    return {k: v.numpy() for k, v in zip(names, out)}


def _build(cfg, jit=True):
    import tensorflow as tf

    hin, win_, cin = cfg.in_shape
    kh, kw = cfg.kernel
    ho, wo = hin - kh + 1, win_ - kw + 1
    hw = ho * wo
    c = cfg.maps
    r_rows = kh * kw * cin
    n_in = hin * win_ * cin
    h = cfg.window // 2
    T = cfg.time_steps

    # static index tables
    ii, jj, kk = np.meshgrid(np.arange(kh), np.arange(kw), np.arange(cin), indexing="ij")
    off_i = tf.constant(ii.reshape(-1), tf.int32)            # (R,) rows in (i, j, k) order
    off_j = tf.constant(jj.reshape(-1), tf.int32)
    off_k = tf.constant(kk.reshape(-1), tf.int32)
    patch_off = tf.constant(((ii * win_ + jj) * cin + kk).reshape(-1), tf.int32)
    pos_r = tf.constant(np.arange(hw) // wo, tf.int32)
    pos_c = tf.constant(np.arange(hw) % wo, tf.int32)
    iota_c = tf.range(c, dtype=tf.int32)
    iota_hw = tf.range(hw, dtype=tf.int32)
    # per-offset tables for the increment: an input spike at (r, c, k) feeds output
    # (r - i, c - j) through row (i*kw + j)*cin + k
    oi = tf.constant(np.repeat(np.arange(kh), kw), tf.int32)   # (kh*kw,)
    oj = tf.constant(np.tile(np.arange(kw), kh), tf.int32)
    f32 = tf.float32
    one = tf.constant(1.0, f32)

    def window_mask(pos):
        """(HW,) bool: positions within the h-window of flat position ``pos`` (-1: none)."""
        r, cc = pos // wo, pos % wo
        return (pos >= 0) & (tf.abs(pos_r - r) <= h) & (tf.abs(pos_c - cc) <= h)

    def windows_mask(wpos):
        """(HW,) bool: union of the windows of all winners ``wpos`` (C,) (-1: none)."""
        r = (wpos // wo)[None, :]
        cc = (wpos % wo)[None, :]
        inside = (tf.abs(pos_r[:, None] - r) <= h) & (tf.abs(pos_c[:, None] - cc) <= h)
        return tf.reduce_any(inside & (wpos >= 0)[None, :], axis=1)

    def greedy_all(k):
        p = tf.reduce_max(k, axis=1)                                     # (HW,)
        m = tf.reduce_min(tf.where(k >= p[:, None], iota_c[None, :], c), axis=1)

        def cond(p, wpos):
            return tf.reduce_max(p) > 0

        def body(p, wpos):
            pmax = tf.reduce_max(p)
            pos = tf.reduce_min(tf.where(p >= pmax, iota_hw, hw))
            mw = tf.gather(m, pos)
            wpos = tf.tensor_scatter_nd_update(wpos, [[mw]], [pos])
            p = tf.where((m == mw) | window_mask(pos), tf.zeros_like(p), p)
            return p, wpos

        _, wpos = tf.while_loop(cond, body, (p, -tf.ones([c], tf.int32)),
                                maximum_iterations=c)
        return wpos

    def per_map_max(k):
        best = tf.reduce_max(k, axis=0)                                  # (C,)
        bpos = tf.reduce_min(tf.where(k >= best[None, :], iota_hw[:, None], hw), axis=0)
        remaining = best > 0

        def cond(rem, wpos):
            return tf.reduce_any(rem)

        def body(rem, wpos):
            v = tf.reduce_max(tf.where(rem, best, -one))
            tie = rem & (best >= v)
            pmin = tf.reduce_min(tf.where(tie, bpos, hw))
            mw = tf.reduce_min(tf.where(tie & (bpos == pmin), iota_c, c))
            r, cc = pmin // wo, pmin % wo
            wr, wc = wpos // wo, wpos % wo
            blocked = tf.reduce_any((wpos >= 0) & (tf.abs(wr - r) <= h) & (tf.abs(wc - cc) <= h))
            wpos = tf.cond(blocked, lambda: wpos,
                           lambda: tf.tensor_scatter_nd_update(wpos, [[mw]], [pmin]))
            rem = rem & (iota_c != mw)
            return rem, wpos

        _, wpos = tf.while_loop(cond, body, (remaining, -tf.ones([c], tf.int32)),
                                maximum_iterations=c)
        return wpos

    competition = greedy_all if cfg.competition == "greedy_all" else per_map_max

    @tf.function(jit_compile=jit)
    def run(W, spk, n_valid, thetas, a_plus_img, img_in_epoch, counts, a_state, g0):
        n = tf.shape(spk)[0]

        def image_body(i, W, counts, a_state, g, win_pos_all, win_step_all, nspk_all):
            theta = thetas[i]
            first_of_block = tf.math.floormod(img_in_epoch[i], cfg.homeo_block) == 0
            if cfg.homeostasis and cfg.count_first_image:
                counts = tf.where(first_of_block, tf.zeros_like(counts), counts)
            a_img = a_plus_img[i]

            def step_body(t, W, counts, a_state, g, V, F, A, Xc, wpos, wstep, nspk, pend_pre, pend_a):
                if cfg.homeostasis and not cfg.count_first_image:
                    counts = tf.where(first_of_block, tf.zeros_like(counts), counts)
                sp = spk[i, t]                                             # (S,)
                has_input = tf.reduce_any(sp >= 0)
                a_now = a_state if cfg.original_steps else a_img

                def active(W, counts, V, F, A, Xc, wpos, wstep, nspk, pend_pre, pend_a):
                    valid = sp >= 0
                    s = tf.maximum(sp, 0)
                    k_in = s % cin
                    cc_in = (s // cin) % win_
                    r_in = s // (cin * win_)
                    # cumulative input ("pre fired at any step <= t")
                    Xc = tf.tensor_scatter_nd_max(
                        Xc, tf.where(valid, s, n_in)[:, None], tf.ones_like(s, dtype=f32))
                    orow = r_in[:, None] - oi[None, :]                     # (S, kh*kw)
                    ocol = cc_in[:, None] - oj[None, :]
                    ok = valid[:, None] & (orow >= 0) & (orow < ho) & (ocol >= 0) & (ocol < wo)
                    opos = tf.where(ok, orow * wo + ocol, hw)
                    wrow = (oi[None, :] * kw + oj[None, :]) * cin + k_in[:, None]
                    contrib = tf.gather(W, tf.reshape(wrow, [-1]))         # (S*kh*kw, C)
                    inc = tf.math.unsorted_segment_sum(contrib, tf.reshape(opos, [-1]), hw + 1)
                    V = V + inc[:hw]
                    cand = (V > theta) if cfg.strict else (V >= theta)
                    if cfg.inhibition:
                        vmax = tf.reduce_max(V, axis=1)
                        act = tf.reduce_any(cand, axis=1) & ~F
                        amax = tf.reduce_min(tf.where(V >= vmax[:, None], iota_c[None, :], c), axis=1)
                        S = (amax[:, None] == iota_c[None, :]) & act[:, None]
                        F = F | act
                    else:  # first crossings only: F is the per-neuron "has spiked" mask
                        S = cand & ~F
                        F = F | cand
                    nspk = nspk + tf.reduce_sum(tf.cast(S, tf.int32))
                    K = tf.where(S & A, V, tf.zeros_like(V))
                    if cfg.homeostasis:
                        any_k = tf.reduce_any(K > 0)
                        over = (counts > cfg.homeo_limit) & any_k
                        K = tf.where(over[None, :], tf.zeros_like(K), K)
                        W = tf.where(over[None, :], W - cfg.homeo_decay * W * (one - W), W)
                    wp = competition(K)                                      # (C,)
                    has_win = wp >= 0
                    blocked = windows_mask(wp)
                    A = A & ~blocked[:, None] & ~has_win[None, :]
                    wstep = tf.where(has_win, t, wstep)
                    wpos = tf.where(has_win, wp, wpos)
                    base = (tf.maximum(wp, 0) // wo * win_ + tf.maximum(wp, 0) % wo) * cin
                    pre = tf.gather(Xc, base[None, :] + patch_off[:, None]) > 0     # (R, C)
                    if cfg.end_of_image:
                        pend_pre = tf.where(has_win[None, :], pre, pend_pre)
                        pend_a = tf.where(has_win, a_now, pend_a)
                    else:
                        a_minus = a_now * cfg.a_minus_ratio
                        dw = tf.where(pre, a_now, -a_minus) * W * (one - W)
                        W = tf.where(has_win[None, :], W + dw, W)
                    if cfg.homeostasis:
                        counts = counts + tf.cast(has_win, f32)
                    return W, counts, V, F, A, Xc, wpos, wstep, nspk, pend_pre, pend_a

                def skip(W, counts, V, F, A, Xc, wpos, wstep, nspk, pend_pre, pend_a):
                    return W, counts, V, F, A, Xc, wpos, wstep, nspk, pend_pre, pend_a

                W, counts, V, F, A, Xc, wpos, wstep, nspk, pend_pre, pend_a = tf.cond(
                    has_input,
                    lambda: active(W, counts, V, F, A, Xc, wpos, wstep, nspk, pend_pre, pend_a),
                    lambda: skip(W, counts, V, F, A, Xc, wpos, wstep, nspk, pend_pre, pend_a))
                if cfg.original_steps:
                    dbl = tf.math.floormod(g, cfg.lr_period) == 0
                    a_state = tf.where(dbl, tf.minimum(2.0 * a_state, cfg.a_plus_max), a_state)
                return (t + 1, W, counts, a_state, g + 1, V, F, A, Xc, wpos, wstep, nspk,
                        pend_pre, pend_a)

            F0 = tf.zeros([hw, c], tf.bool) if not cfg.inhibition else tf.zeros([hw], tf.bool)
            init = (0, W, counts, a_state, g, tf.zeros([hw, c], f32), F0,
                    tf.ones([hw, c], tf.bool), tf.zeros([n_in + 1], f32),
                    -tf.ones([c], tf.int32), -tf.ones([c], tf.int32), 0,
                    tf.zeros([r_rows, c], tf.bool), tf.zeros([c], f32))
            res = tf.while_loop(lambda t, *a: t < T, step_body, init)
            _, W, counts, a_state, g, _, _, _, _, wpos, wstep, nspk, pend_pre, pend_a = res
            if cfg.end_of_image:
                has = pend_a > 0
                dw = tf.where(pend_pre, pend_a[None, :], -pend_a[None, :] * cfg.a_minus_ratio) * W * (one - W)
                W = tf.where(has[None, :], W + dw, W)
            win_pos_all = tf.tensor_scatter_nd_update(win_pos_all, [[i]], wpos[None, :])
            win_step_all = tf.tensor_scatter_nd_update(win_step_all, [[i]], wstep[None, :])
            nspk_all = tf.tensor_scatter_nd_update(nspk_all, [[i]], [nspk])
            return i + 1, W, counts, a_state, g, win_pos_all, win_step_all, nspk_all

        init = (0, W, counts, a_state, g0, -tf.ones([n, c], tf.int32), -tf.ones([n, c], tf.int32),
                tf.zeros([n], tf.int32))
        res = tf.while_loop(lambda i, *a: i < n_valid, image_body, init)
        _, W, counts, a_state, _, wpa, wsa, nsa = res
        return W, counts, a_state, wpa, wsa, nsa

    return run
