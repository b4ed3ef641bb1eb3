"""Convergence measures of STDP weights (docs/original/diagnostics.md#convergence).

Under the multiplicative rule every weight moves towards 0 or 1, so ``w (1 - w)`` shrinks as a
layer learns: ``C_l`` (paper eq. 22) is its mean over the layer, 0 for binary weights and
about 0.16 for the initial ``N(0.8, 0.01)`` draws. The temporal difference ``TD`` (paper eq.
23) is the mean squared change between consecutive weight snapshots. The training monitors
(:mod:`spykeflow.monitors`) and the plots (:func:`spykeflow.plotting.plot_convergence`) both use
these functions.
"""

from __future__ import annotations

import numpy as np

__all__ = ["convergence", "convergence_curve", "temporal_difference"]


def convergence_curve(snapshots) -> np.ndarray:
    """``C_l`` of each snapshot of a stack ``(S, ...)``: ``(S,)`` float64.

    >>> convergence_curve(np.stack([np.full((2, 2), 0.5), np.ones((2, 2))])).tolist()
    [0.25, 0.0]
    """
    s = np.asarray(snapshots, np.float64)
    flat = s.reshape(s.shape[0], -1)
    return (flat * (1 - flat)).mean(axis=1)


def convergence(weights) -> float:
    """``C_l`` = mean of ``w (1 - w)`` over all weights of a layer.

    >>> convergence(np.array([0.5, 0.0, 1.0]))
    0.08333333333333333
    """
    return float(convergence_curve(np.asarray(weights)[None])[0])


def temporal_difference(snapshots) -> np.ndarray:
    """``TD`` between consecutive snapshots of a stack ``(S, ...)``: ``(S - 1,)`` float64.

    >>> temporal_difference(np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 0.0]])).tolist()
    [0.5, 0.0]
    """
    s = np.asarray(snapshots, np.float64)
    if s.shape[0] < 2:
        return np.zeros(0)
    d = np.diff(s.reshape(s.shape[0], -1), axis=0)
    return (d * d).mean(axis=1)
