"""Multiplicative STDP, its learning-rate schedule, homeostasis, initialisation and convergence
metrics (reference S2, S5, S7, S8, S10).

STDP (paper eq. 6) for the winner of map ``m`` at ``(r, c)``, step ``t``::

    pre[i, j, k] = input[r+i, c+j, k] spiked at any step s <= t    (same step counts as causal)
    dW[..., m]   = +a_plus  * W(1-W)   where pre
                   -a_minus * W(1-W)   elsewhere,          a_minus = 0.75 a_plus

No clipping: ``W`` stays in (0, 1) for ``a_plus <= 0.15``; the update vanishes at W in {0, 1}.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "stdp_update",
    "homeostasis_decay",
    "init_weights",
    "a_plus_for_image",
    "original_step_doublings",
    "convergence",
    "temporal_difference",
]


def stdp_update(w, pre, a_plus, a_minus):
    """Return the kernel ``w`` after one STDP update given the causal mask ``pre`` (same shape).

    >>> w = np.array([0.5, 0.5, 0.0, 1.0], np.float32)
    >>> stdp_update(w, np.array([1, 0, 1, 0], bool), 0.004, 0.003).tolist()
    [0.5009999871253967, 0.4992499947547913, 0.0, 1.0]
    """
    w = np.asarray(w, np.float32)
    a = np.where(np.asarray(pre, bool), np.float32(a_plus), np.float32(-a_minus)).astype(np.float32)
    return (w + a * w * (np.float32(1) - w)).astype(np.float32)


def homeostasis_decay(w, c):
    """Uniform depression of an over-active map's kernel: ``W - c W (1 - W)`` (reference S2).

    >>> homeostasis_decay(np.array([0.5, 1.0], np.float32), 0.003).tolist()
    [0.49924999475479126, 1.0]
    """
    w = np.asarray(w, np.float32)
    return (w - np.float32(c) * w * (np.float32(1) - w)).astype(np.float32)


def init_weights(shape, mean=0.8, std=0.01, rng=None):
    """Draw kernels from ``N(mean, std)``; values ``>= 1`` or ``<= 0`` are *replaced* by ``mean``.

    >>> w = init_weights((5, 5, 2, 30), rng=np.random.default_rng(0))
    >>> w.dtype, round(float(w.mean()), 2), bool(((w > 0) & (w < 1)).all())
    (dtype('float32'), 0.8, True)
    """
    rng = np.random.default_rng(rng)
    w = rng.normal(mean, std, size=shape).astype(np.float32)
    w[(w >= 1) | (w <= 0)] = np.float32(mean)
    return w


def a_plus_for_image(image_index, a_plus=0.004, double_every=500, a_plus_max=0.15):
    """Learning rate of the ``image_index``-th training image (0-based, counted over epochs)
    under the default schedule: doubled at image boundaries every ``double_every`` images,
    capped at ``a_plus_max`` (``None``: no cap).

    >>> [a_plus_for_image(i) for i in (0, 499, 500, 1000, 2500, 3000)]
    [0.004, 0.004, 0.008, 0.016, 0.128, 0.15]
    """
    if double_every is None:
        return float(a_plus)
    a = float(a_plus) * 2.0 ** min(int(image_index) // int(double_every), 64)
    return a if a_plus_max is None else min(a, float(a_plus_max))


def original_step_doublings(global_step, lr_inc_rate, time_steps=12):
    """Number of doublings the original applied *after* ``global_step`` (inclusive).

    The original doubles after every step ``g`` with ``g mod (time_steps*N - 1) == 0``,
    including ``g = 0``.

    >>> [original_step_doublings(g, 500) for g in (0, 5998, 5999, 11998)]
    [1, 1, 2, 3]
    """
    period = int(time_steps) * int(lr_inc_rate) - 1
    return int(global_step) // period + 1


def convergence(w):
    """Convergence C_l = mean of ``w (1 - w)`` over all weights of a layer (paper eq. 22).

    >>> float(convergence(np.array([0.5, 0.0, 1.0])))
    0.08333333333333333
    """
    w = np.asarray(w, np.float64)
    return float(np.mean(w * (1 - w)))


def temporal_difference(w_prev, w):
    """Temporal difference TD = mean squared change between two snapshots (paper eq. 23).

    >>> float(temporal_difference(np.zeros(4), np.full(4, 0.5)))
    0.25
    """
    d = np.asarray(w_prev, np.float64) - np.asarray(w, np.float64)
    return float(np.mean(d * d))
