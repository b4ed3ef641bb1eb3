"""Convergence measures of STDP weights (docs/original/diagnostics.md).

Under the multiplicative rule every weight moves towards 0 or 1, so ``w (1 - w)`` shrinks as a
layer learns: ``C_l`` (paper eq. 22) is its mean over the layer, 0 for binary weights and
about 0.16 for the initial ``N(0.8, 0.01)`` draws. The temporal difference ``TD`` (paper eq.
23) is the mean squared change between two weight snapshots.
"""

from __future__ import annotations

import numpy as np

__all__ = ["convergence", "temporal_difference"]


def convergence(weights) -> float:
    """``C_l`` = mean of ``w (1 - w)`` over all weights of a layer.

    >>> convergence(np.array([0.5, 0.0, 1.0]))
    0.08333333333333333
    """
    w = np.asarray(weights, np.float64)
    return float(np.mean(w * (1 - w)))


def temporal_difference(previous, current) -> float:
    """``TD`` = mean squared difference between two snapshots of the same weights.

    >>> temporal_difference(np.zeros(4), np.full(4, 0.5))
    0.25
    """
    d = np.asarray(previous, np.float64) - np.asarray(current, np.float64)
    return float(np.mean(d * d))
