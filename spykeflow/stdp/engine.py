"""The compiled STDP training loop of one convolutional layer.

Samples are processed one after the other (each sees the weights its predecessors left) and
the steps of a sample in order. Each step runs the mechanisms of :mod:`spykeflow.functional`,
each one Numba kernel in its own file:

1. :func:`~spykeflow.functional.integrate_fire.integrate_step`: this step's input spikes add
   the *current* weights to the potentials they feed;
2. :func:`~spykeflow.functional.inhibition.fire_step`: threshold and lateral inhibition;
3. :func:`~spykeflow.functional.competition.select_candidates`: spikes of neurons that may
   still learn;
4. :func:`~spykeflow.functional.homeostasis.suppress_overactive`: over-active maps leave the
   competition and decay;
5. :func:`~spykeflow.functional.competition.greedy_all` or
   :func:`~spykeflow.functional.competition.per_map_max`: the winners;
6. :func:`~spykeflow.functional.competition.block_winners`, then for each winner
   :func:`~spykeflow.functional.stdp.causal_pre` and
   :func:`~spykeflow.functional.stdp.stdp_update` (now, or at the end of the sample), and
   :func:`~spykeflow.functional.homeostasis.count_wins`;
7. :mod:`~spykeflow.functional.lr_schedule`: A+ of the image, or of the step.

Steps without input skip 1-6. The loop's settings travel as one :class:`Settings` tuple built
from the layer's parameter groups by :func:`settings_for`; its state (weights, homeostasis
counters, A+ and the global step of the ``"original_steps"`` schedule) goes in and comes out.
"""

from __future__ import annotations

from typing import NamedTuple

import numba as nb
import numpy as np

from ..functional.competition import block_winners, greedy_all, per_map_max, select_candidates
from ..functional.homeostasis import count_wins, suppress_overactive
from ..functional.inhibition import fire_step
from ..functional.integrate_fire import integrate_step
from ..functional.lr_schedule import a_plus_for_image, after_step
from ..functional.stdp import causal_pre, stdp_update

__all__ = ["Settings", "settings_for", "train_chunk"]


class Settings(NamedTuple):
    """What the compiled loop needs to know about a layer (read-only, one typed tuple)."""

    in_h: int                   # input height, width and channels (after padding)
    in_w: int
    in_c: int
    kh: int                     # kernel height and width
    kw: int
    time_steps: int
    half_window: int            # competition window // 2
    strict: bool                # V > theta instead of V >= theta
    inhibition: bool            # lateral inhibition between maps
    greedy: bool                # "greedy_all" (else "per_map_max")
    homeostasis: bool
    homeo_block: int
    homeo_limit: float          # block / factor
    homeo_decay: np.float32
    count_first_image: bool
    end_of_image: bool          # STDP update deferred to the end of the sample
    a_plus: float               # A+ of the first image
    a_minus_ratio: np.float32
    double_every: int           # <= 0: constant A+
    a_plus_max: float           # inf: no cap
    original_steps: bool        # "original_steps" schedule
    lr_period: int              # time_steps * double_every - 1 ("original_steps")


def settings_for(layer, in_shape, time_steps) -> Settings:
    """The :class:`Settings` of STDPConv ``layer`` on (padded) inputs ``(H, W, C)`` of
    ``time_steps`` steps."""
    h_in, w_in, c_in = (int(v) for v in in_shape)
    homeo, sched = layer.homeostasis, layer.schedule
    every = sched.double_every or 0
    return Settings(
        in_h=h_in, in_w=w_in, in_c=c_in, kh=layer.kernel_size, kw=layer.kernel_size,
        time_steps=int(time_steps), half_window=layer.competition.window // 2,
        strict=layer.neuron.strict_threshold, inhibition=layer.neuron.lateral_inhibition,
        greedy=layer.competition.mode == "greedy_all", homeostasis=homeo.enabled,
        homeo_block=homeo.block, homeo_limit=homeo.block / homeo.factor,
        homeo_decay=np.float32(homeo.decay), count_first_image=homeo.count_first_image,
        end_of_image=layer.rule.update == "end_of_image", a_plus=float(layer.rule.a_plus),
        a_minus_ratio=np.float32(layer.rule.a_minus_ratio), double_every=int(every),
        a_plus_max=float("inf") if sched.a_plus_max is None else float(sched.a_plus_max),
        original_steps=sched.kind == "original_steps",
        lr_period=int(time_steps) * max(every, 1) - 1)


def train_chunk(settings: Settings, weights, ev, thetas, image_index, image_in_epoch, counts,
                a_state, global_step) -> dict:
    """Train on the samples of ``ev`` in order; returns the new state and per-sample records.

    Parameters
    ----------
    settings : Settings
    weights : ndarray (R, C) float32
        ``R = kh*kw*C_in`` rows, row ``(i*kw + j)*C_in + k``; not modified (a copy is trained).
    ev : SpikeEvents
        Input spikes of the ``n`` samples on ``(T, H_in, W_in, C_in)`` (a neuron may spike at
        several steps; each spike adds its weight).
    thetas : ndarray (n,) float32
        Threshold of each sample.
    image_index : ndarray (n,) int
        Index of each sample among all training images of the layer, counted over epochs
        (the ``"images"`` learning-rate schedule).
    image_in_epoch : ndarray (n,) int
        Index of each sample within its epoch (homeostasis blocks).
    counts : ndarray (C,) float32
        Homeostasis win counters (not modified).
    a_state : float
        A+ of the ``"original_steps"`` schedule (ignored otherwise).
    global_step : int
        Global step at the chunk's first step (``"original_steps"`` schedule).

    Returns
    -------
    dict with ``weights``, ``counts``, ``a_state``, ``win_pos`` (n, C) int32 flat output
    position of each map's winner (-1: none), ``win_step`` (n, C) int32 and ``spikes``
    (n,) int32 post-inhibition spikes per sample.
    """
    n_maps = np.shape(weights)[-1]
    w = np.array(weights, np.float32, copy=True).reshape(-1, n_maps)
    counts = np.array(counts, np.float32, copy=True)
    win_pos = np.full((ev.n, n_maps), -1, np.int32)
    win_step = np.full((ev.n, n_maps), -1, np.int32)
    spikes = np.zeros(ev.n, np.int32)
    a_state = _train(settings, w, counts, ev.ptr, ev.t, ev.idx,
                     np.ascontiguousarray(thetas, np.float32),
                     np.ascontiguousarray(image_index, np.int64),
                     np.ascontiguousarray(image_in_epoch, np.int64), np.float32(a_state),
                     np.int64(global_step), win_pos, win_step, spikes)
    return {"weights": w, "counts": counts, "a_state": np.float32(a_state), "win_pos": win_pos,
            "win_step": win_step, "spikes": spikes}


@nb.njit(cache=True)
def _train(s, w, counts, ptr, ev_t, ev_idx, thetas, image_index, image_in_epoch, a_state, g,
           win_pos, win_step, spikes):
    n = ptr.shape[0] - 1
    n_rows, n_maps = w.shape
    ho, wo = s.in_h - s.kh + 1, s.in_w - s.kw + 1
    hw = ho * wo
    v = np.zeros((hw, n_maps), np.float32)          # potentials
    inc = np.zeros((hw, n_maps), np.float32)        # this step's currents
    fired = np.zeros(hw * n_maps, np.bool_)         # per position (inhibition) or per neuron
    allowed = np.ones((hw, n_maps), np.bool_)       # may still learn in this sample
    seen = np.zeros(s.in_h * s.in_w * s.in_c, np.bool_)   # input spiked at any step so far
    stamp = np.full(hw, -1, np.int64)
    touched = np.empty(hw, np.int32)
    s_pos = np.empty(hw * n_maps, np.int32)         # this step's new spikes
    s_map = np.empty(hw * n_maps, np.int32)
    s_val = np.empty(hw * n_maps, np.float32)
    p = np.empty(hw * n_maps, np.float32)           # competition scratch
    pm = np.empty(hw * n_maps, np.int32)
    best = np.empty(n_maps, np.float32)
    bpos = np.empty(n_maps, np.int32)
    wp = np.empty(n_maps, np.int32)                 # winners' positions
    pre = np.empty(n_rows, np.bool_)
    pend_pre = np.zeros((n_maps, n_rows), np.bool_)  # deferred updates (end_of_image)
    pend_a = np.zeros(n_maps, np.float32)
    step_id = np.int64(0)
    for i in range(n):
        theta = thetas[i]
        first_of_block = image_in_epoch[i] % s.homeo_block == 0
        if s.homeostasis and s.count_first_image and first_of_block:
            counts[:] = 0
        a_image = a_plus_for_image(image_index[i], s.a_plus, s.double_every, s.a_plus_max)
        v[:] = 0
        fired[:] = False
        allowed[:] = True
        seen[:] = False
        pend_a[:] = 0
        e, e_end = ptr[i], ptr[i + 1]
        for t in range(s.time_steps):
            step_id += 1
            if s.homeostasis and not s.count_first_image and first_of_block:
                counts[:] = 0
            a_now = a_state if s.original_steps else a_image
            if e < e_end and ev_t[e] == t:
                e0 = e
                e, nt = integrate_step(e, e_end, ev_t, ev_idx, w, s.in_w, s.in_c, s.kh, s.kw,
                                       ho, wo, stamp, step_id, touched, inc)
                for q in range(e0, e):
                    seen[ev_idx[q]] = True
                ns = fire_step(touched, nt, v, inc, fired, theta, s.strict, s.inhibition,
                               s_pos, s_map, s_val)
                spikes[i] += ns
                any_left = select_candidates(allowed, s_pos, s_map, s_val, ns)
                if s.homeostasis and any_left:
                    suppress_overactive(counts, s.homeo_limit, s.homeo_decay, w, s_map, s_val,
                                        ns)
                if s.greedy:
                    nw = greedy_all(s_pos, s_map, s_val, ns, n_maps, wo, s.half_window,
                                    s.inhibition, p, pm, wp)
                else:
                    nw = per_map_max(s_pos, s_map, s_val, ns, n_maps, wo, s.half_window, best,
                                     bpos, wp)
                if nw > 0:
                    block_winners(allowed, wp, wo, s.half_window)
                    a_minus = a_now * s.a_minus_ratio
                    for m in range(n_maps):
                        if wp[m] < 0:
                            continue
                        win_pos[i, m] = wp[m]
                        win_step[i, m] = t
                        causal_pre(seen, wp[m] // wo, wp[m] % wo, s.in_w, s.in_c, s.kh, s.kw,
                                   pre)
                        if s.end_of_image:
                            pend_pre[m, :] = pre
                            pend_a[m] = a_now
                        else:
                            stdp_update(w, m, pre, a_now, a_minus)
                    if s.homeostasis:
                        count_wins(counts, wp)
            if s.original_steps:
                a_state = after_step(a_state, g, s.lr_period, s.a_plus_max)
            g += 1
        if s.end_of_image:
            for m in range(n_maps):
                if pend_a[m] > 0:
                    stdp_update(w, m, pend_pre[m], pend_a[m], pend_a[m] * s.a_minus_ratio)
    return a_state
