"""Validators used at the public boundary. Messages say what was expected, what was received,
and how to fix it (``Expected ... Received: arg=value``)."""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.exceptions import NotFittedError  # re-exported: the one "not fitted" error

__all__ = [
    "NotFittedError",
    "check_spikes",
    "check_finite_array",
    "check_positive_int",
    "check_in",
    "check_fitted",
]


def check_spikes(spikes, name="spikes", ndim=None, min_ndim=3):
    """Return ``spikes`` as a boolean array after checking rank, emptiness and binariness.

    Parameters
    ----------
    spikes : array-like of bool or {0, 1}
        Spike trains ``(N, T, ...)`` (see :mod:`spykeflow.conventions`).
    ndim : int, optional
        Exact rank required (e.g. 5 for ``(N, T, H, W, C)``).
    min_ndim : int
        Minimum rank when ``ndim`` is None.
    """
    arr = np.asarray(spikes)
    if arr.dtype == object:
        raise TypeError(f"Expected a numeric or boolean array for {name}. Received: dtype=object.")
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(
            f"Expected {name} of rank {ndim} (N, T, H, W, C). Received: shape={arr.shape}. "
            "Add the missing axes (e.g. x[:, :, :, :, None] for one channel)."
        )
    if arr.ndim < min_ndim:
        raise ValueError(f"Expected {name} of rank >= {min_ndim}. Received: shape={arr.shape}.")
    if arr.shape[0] == 0:
        raise ValueError(f"Expected at least one sample in {name}. Received: shape={arr.shape}.")
    if arr.shape[1] < 1:
        raise ValueError(f"Expected at least one time step in {name}. Received: shape={arr.shape}.")
    if arr.dtype != bool:
        if not (np.issubdtype(arr.dtype, np.number)):
            raise TypeError(f"Expected bool or 0/1 values for {name}. Received: dtype={arr.dtype}.")
        bad = (arr != 0) & (arr != 1)
        if bad.any():
            example = arr[bad].flat[0]
            raise ValueError(
                f"Expected binary spikes (bool or 0/1) in {name}. Received a value {example!r} "
                "(dtype {arr.dtype}). Encode real values with spykeflow.InputLayer first."
            )
        arr = arr.astype(bool)
    return arr


def check_finite_array(x, name="X", min_ndim=1, dtype=np.float32):
    """Return ``x`` as a ``dtype`` array, rejecting object arrays, empty batches and NaN/inf."""
    arr = np.asarray(x)
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.number) or arr.dtype == bool
    ):
        raise TypeError(f"Expected numeric {name}. Received: dtype={arr.dtype}.")
    if arr.ndim < min_ndim:
        raise ValueError(f"Expected {name} of rank >= {min_ndim}. Received: shape={arr.shape}.")
    if arr.ndim and arr.shape[0] == 0:
        raise ValueError(f"Expected at least one sample in {name}. Received: shape={arr.shape}.")
    arr = arr.astype(dtype, copy=False)
    if np.issubdtype(arr.dtype, np.floating) and not np.isfinite(arr).all():
        n_bad = int((~np.isfinite(arr)).sum())
        raise ValueError(
            f"Expected finite values in {name}. Received {n_bad} NaN/inf entries; "
            "clean or impute them first."
        )
    return arr


def check_positive_int(value, name, minimum=1):
    """Return ``value`` as int after checking it is an integer >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"Expected an integer for {name}. Received: {name}={value!r}.")
    if value < minimum:
        raise ValueError(f"Expected {name} >= {minimum}. Received: {name}={value}.")
    return int(value)


def check_in(value, name, options):
    """Check that ``value`` is one of ``options``; the error lists them."""
    if value not in options:
        raise ValueError(
            f"Expected {name} to be one of {sorted(map(str, options))}. Received: {name}={value!r}."
        )
    return value


def check_fitted(estimator, attribute):
    """Raise :class:`NotFittedError` unless ``estimator`` has the learned ``attribute``."""
    if not hasattr(estimator, attribute):
        raise NotFittedError(
            f"This {type(estimator).__name__} is not fitted yet. Call fit(...) before using it."
        )
