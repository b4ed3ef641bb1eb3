"""The multiplicative STDP rule and the initial weights (docs/original/stdp.md#the-stdp-rule).

For the winner of map ``m`` at output position ``(r, c)`` and step ``t`` (paper eq. 6)::

    pre[i, j, k] = input (r+i, c+j, k) spiked at any step s <= t    (the same step counts)
    W[i, j, k, m] += a W (1 - W),   a = +a_plus where pre, -a_minus elsewhere

There is no clipping: the soft bound ``W (1 - W)`` keeps ``W`` inside (0, 1) for
``a_plus <= 0.15`` and makes the update vanish at 0 and 1. :func:`soft_bound` is that weight
dependence; homeostasis decays an over-active map with the same form
(:mod:`spykeflow.functional.homeostasis`).

Kernels are stored as ``(kh*kw*C_in, C_out)``, row ``(i*kw + j)*C_in + k``. These are the
functions :class:`spykeflow.Network` runs while it trains (:mod:`spykeflow.stdp.engine`).
"""

from __future__ import annotations

import numba as nb
import numpy as np

__all__ = ["soft_bound", "causal_pre", "stdp_update", "init_weights"]


@nb.njit(cache=True)
def soft_bound(w, a):
    """``w + a w (1 - w)`` in float32: the multiplicative weight change of rate ``a``.

    >>> float(soft_bound(np.float32(0.5), np.float32(0.1)))
    0.5249999761581421
    """
    return w + a * w * (np.float32(1.0) - w)


@nb.njit(cache=True)
def causal_pre(seen, r0, c0, win, cin, kh, kw, pre):
    """The causal mask of a winner at ``(r0, c0)``: ``pre[(i*kw + j)*cin + k]`` = input
    ``(r0+i, c0+j, k)`` has spiked in this sample (``seen``, flat ``(row*win + col)*cin + k``).

    >>> seen = np.zeros(9, np.bool_); seen[4] = True               # (1, 1) of a 3x3 input
    >>> pre = np.empty(4, np.bool_)
    >>> causal_pre(seen, 0, 0, 3, 1, 2, 2, pre); pre.tolist()      # 2x2 kernel at (0, 0)
    [False, False, False, True]
    """
    for i in range(kh):
        for j in range(kw):
            base = ((r0 + i) * win + c0 + j) * cin
            row = (i * kw + j) * cin
            for k in range(cin):
                pre[row + k] = seen[base + k]


@nb.njit(cache=True)
def stdp_update(w, m, pre, a_plus, a_minus):
    """Update kernel ``m`` (column ``m`` of ``w``, float32, in place) given its causal mask
    ``pre``: LTP ``+a_plus W(1-W)`` where ``pre``, LTD ``-a_minus W(1-W)`` elsewhere.

    >>> w = np.array([[0.5], [0.5], [0.0], [1.0]], np.float32)
    >>> stdp_update(w, 0, np.array([True, False, True, False]), 0.004, 0.003)
    >>> w[:, 0].tolist()
    [0.5009999871253967, 0.4992499947547913, 0.0, 1.0]
    """
    ltp = np.float32(a_plus)
    ltd = -np.float32(a_minus)
    for r in range(w.shape[0]):
        w[r, m] = soft_bound(w[r, m], ltp if pre[r] else ltd)


def init_weights(shape, mean=0.8, std=0.01, rng=None):
    """Draw kernels from ``N(mean, std)``; values ``>= 1`` or ``<= 0`` are *replaced* by ``mean``
    (docs/original/stdp.md#initial-weights).

    >>> w = init_weights((5, 5, 2, 30), rng=np.random.default_rng(0))
    >>> w.dtype, round(float(w.mean()), 2), bool(((w > 0) & (w < 1)).all())
    (dtype('float32'), 0.8, True)
    """
    rng = np.random.default_rng(rng)
    w = rng.normal(mean, std, size=shape).astype(np.float32)
    w[(w >= 1) | (w <= 0)] = np.float32(mean)
    return w
