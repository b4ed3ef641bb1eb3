"""Latency coding: response maps -> first-spike time bins, as pure numpy functions.

Input is a stack of non-negative response maps (e.g. the thresholded, locally normalised DoG
maps of :func:`spykeflow.functional.dog.dog_responses`); a pixel with a value ``> 0`` spikes
exactly once, others never. The output is the compact first-spike form of
:mod:`spykeflow.conventions`: the time bin of each pixel's spike, ``-1`` for "no spike".

Two codes (docs/original/encoding.md#latency-bins; Vaila et al. section II.A):

``rank`` (the original SpykeFlow, default)
    Per map, order the ``n`` pixels with ``X > 0`` by ``X`` descending (latency ``1/X``
    ascending); ties are broken by ascending flat (row-major) index. The pixel of rank
    ``r = 1..n`` spikes in bin ``b = ceil(n_bins r / n) - 1 = (n_bins r - 1) div n``, so every
    bin holds ``floor(n / n_bins)`` or ``ceil(n / n_bins)`` spikes (equal-count binning).

``inverse`` (the paper's ``tau = 1 / Gamma``; the quantisation is toolkit-defined)
    ``tau = 1/X`` for ``X > 0``. Per map, with ``tau_min``/``tau_max`` over the spiking
    pixels, ``b = floor(n_bins (tau - tau_min) / (tau_max - tau_min))``, clipped to
    ``n_bins - 1`` (``b = 0`` when ``tau_max == tau_min``). The paper gives no quantisation
    rule, so no published number uses this code.

Both are monotone: a stronger response never spikes later than a weaker one of the same map.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from spykeflow.conventions import NO_SPIKE

__all__ = ["rank_order_bins", "inverse_latency", "inverse_latency_bins", "latency_bins", "METHODS"]

METHODS = ("rank", "inverse")


def _as_maps(values):
    v = np.asarray(values, np.float64)
    if v.ndim < 2:
        raise ValueError(
            f"Expected response maps of shape (..., H, W). Received: shape={v.shape}."
        )
    return v, v.reshape(-1, v.shape[-2] * v.shape[-1])


def _bin_dtype(n_bins):
    return np.int8 if n_bins <= np.iinfo(np.int8).max else np.int32


def rank_order_bins(values: Any, n_bins: int = 10) -> np.ndarray:
    """Equal-count rank-order binning of each map (the original SpykeFlow code).

    Parameters
    ----------
    values : array-like, shape (..., H, W)
        Responses; one map per leading index. Pixels with values ``> 0`` spike.
    n_bins : int
        Number of time bins (10 in the published setting).

    Returns
    -------
    numpy.ndarray, shape (..., H, W)
        First-spike bin in ``0..n_bins-1``, or -1 (no spike). ``int8`` when ``n_bins <= 127``
        else ``int32``.

    Examples
    --------
    >>> rank_order_bins(np.array([[5.0, 0.0, 3.0], [2.0, 9.0, 1.0]]), n_bins=2).tolist()
    [[0, -1, 1], [1, 0, 1]]

    Five spiking pixels in two bins: ranks 1-2 go to bin 0 (``(2 r - 1) div 5``), ranks 3-5
    to bin 1. Tied values are ranked by flat index:

    >>> rank_order_bins(np.array([[4.0, 1.0], [1.0, 0.0]]), n_bins=3).tolist()
    [[0, 1], [2, -1]]
    """
    v, flat = _as_maps(values)
    m, p = flat.shape
    out = np.full((m, p), NO_SPIKE, _bin_dtype(n_bins))
    if m == 0 or p == 0:
        return out.reshape(v.shape)
    positive = flat > 0
    n = np.count_nonzero(positive, axis=1)
    n_max = int(n.max())
    if n_max == 0:
        return out.reshape(v.shape)
    # Sort by value descending (SIMD quicksort); only the first n_max columns matter. Maps
    # whose spiking values contain exact ties are re-sorted stably so that ties fall in
    # ascending flat-index order.
    # Non-positive values get keys >= 0 and sort after every spiking pixel.
    key = np.negative(flat)
    order = np.argsort(key, axis=1)[:, :n_max]
    rows = (np.arange(m, dtype=np.intp) * p)[:, None]
    sorted_key = key.ravel()[order + rows]
    tied = ((sorted_key[:, 1:] == sorted_key[:, :-1]) & (sorted_key[:, 1:] < 0)).any(axis=1)
    if tied.any():
        order[tied] = np.argsort(key[tied], axis=1, kind="stable")[:, :n_max]
    # b = (n_bins r - 1) div n, computed as a float quotient: exact, because a non-integer
    # quotient of integers below 2**31 is at least 1/n away from the next integer.
    rank = np.arange(1, n_max + 1, dtype=np.float64)
    n_f = np.maximum(n, 1).astype(np.float64)[:, None]
    bins = np.floor((n_bins * rank[None, :] - 1.0) / n_f)
    bins = np.where(rank[None, :] <= n[:, None], bins, NO_SPIKE).astype(out.dtype)
    out.ravel()[order + rows] = bins
    return out.reshape(v.shape)


def inverse_latency(values: Any) -> np.ndarray:
    """Latency ``tau = 1 / X`` for ``X > 0`` and ``inf`` elsewhere (paper eq. after (3)).

    >>> inverse_latency(np.array([4.0, 0.0, 0.5])).tolist()
    [0.25, inf, 2.0]
    """
    v = np.asarray(values, np.float64)
    with np.errstate(divide="ignore"):
        return np.where(v > 0, 1.0 / np.where(v > 0, v, 1.0), np.inf)


def inverse_latency_bins(values: Any, n_bins: int = 10) -> np.ndarray:
    """Quantise ``tau = 1/X`` linearly between each map's earliest and latest spike.

    ``b = min(floor(n_bins (tau - tau_min) / (tau_max - tau_min)), n_bins - 1)`` per map
    (toolkit-defined; see the module docstring).

    Examples
    --------
    >>> inverse_latency_bins(np.array([[1.0, 2.0, 4.0, 0.0]]), n_bins=4).tolist()
    [[3, 1, 0, -1]]

    (``tau = 1, 0.5, 0.25``: ``4 (tau - 0.25) / 0.75 = 4, 1.33, 0``.)
    """
    v, flat = _as_maps(values)
    out = np.full(flat.shape, NO_SPIKE, _bin_dtype(n_bins))
    if flat.size == 0:
        return out.reshape(v.shape)
    tau = inverse_latency(flat)
    positive = np.isfinite(tau)
    t_min = np.where(positive, tau, np.inf).min(axis=1, keepdims=True)
    t_max = np.where(positive, tau, -np.inf).max(axis=1, keepdims=True)
    span = t_max - t_min
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(span > 0, (tau - t_min) / np.where(span > 0, span, 1.0), 0.0)
        b = np.minimum(np.floor(n_bins * frac), n_bins - 1)
    out[positive] = b[positive].astype(out.dtype)
    return out.reshape(v.shape)


def latency_bins(values: Any, method: str = "rank", n_bins: int = 10) -> np.ndarray:
    """Dispatch to :func:`rank_order_bins` (``"rank"``) or :func:`inverse_latency_bins`."""
    if method == "rank":
        return rank_order_bins(values, n_bins)
    if method == "inverse":
        return inverse_latency_bins(values, n_bins)
    raise ValueError(f"Expected latency in {list(METHODS)}. Received: latency={method!r}.")
