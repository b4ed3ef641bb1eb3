"""The validators of SpykeFlow's public boundary: one set, used by every class and function.

Every message says what was expected, what was received and, where it helps, how to fix it::

    Expected threshold > 0. Received: threshold=-1.
    Expected padding to be one of ['same', 'valid']. Received: padding='full'.

Each ``check_*`` returns the value converted to its canonical type (``int``, ``float``,
``bool``, ``tuple``, a numpy array), so a constructor can write
``self.threshold = check_float(threshold, "threshold", low=0, low_open=True)``.
"""

from __future__ import annotations

import numbers
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from sklearn.exceptions import NotFittedError  # re-exported: the one "not fitted" error

__all__ = [
    "NotFittedError",
    "check_bool",
    "check_int",
    "check_float",
    "check_floats",
    "check_int_list",
    "check_int_tuple",
    "check_in",
    "check_fitted",
    "check_spikes",
    "check_finite_array",
    "is_int",
    "is_real",
]


def is_int(value: Any) -> bool:
    """True for integers (Python or numpy), False for bools.

    >>> is_int(3), is_int(np.int64(3)), is_int(True), is_int(3.0)
    (True, True, False, False)
    """
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def is_real(value: Any) -> bool:
    """True for real numbers (int or float, Python or numpy), False for bools.

    >>> is_real(0.5), is_real(2), is_real(False), is_real("1")
    (True, True, False, False)
    """
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def check_bool(value: Any, name: str) -> bool:
    """``value`` as a bool; only ``True``/``False`` (or numpy bools) are accepted.

    >>> check_bool(np.True_, "strict")
    True
    >>> check_bool(1, "strict")
    Traceback (most recent call last):
    ...
    TypeError: Expected strict to be a bool (True or False). Received: strict=1.
    """
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"Expected {name} to be a bool (True or False). "
                        f"Received: {name}={value!r}.")
    return bool(value)


def check_int(
    value: Any, name: str, minimum: int | None = 1, maximum: int | None = None,
    allow_none: bool = False,
) -> Any:
    """``value`` as an int in ``[minimum, maximum]`` (``None`` bounds are open).

    >>> check_int(5, "maps")
    5
    >>> check_int(0, "maps")
    Traceback (most recent call last):
    ...
    ValueError: Expected maps >= 1. Received: maps=0.
    """
    if value is None and allow_none:
        return None
    if not is_int(value):
        raise TypeError(f"Expected {name} to be an integer. Received: {name}={value!r}.")
    if minimum is not None and value < minimum:
        raise ValueError(f"Expected {name} >= {minimum}. Received: {name}={value}.")
    if maximum is not None and value > maximum:
        raise ValueError(f"Expected {name} <= {maximum}. Received: {name}={value}.")
    return int(value)


def _range_text(low, high, low_open, high_open) -> str:
    if low is not None and high is not None:
        return f"in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
    if low is not None:
        return f"{'>' if low_open else '>='} {low}"
    return f"{'<' if high_open else '<='} {high}"


def check_float(
    value: Any, name: str, low: float | None = None, high: float | None = None,
    low_open: bool = False, high_open: bool = False, allow_none: bool = False,
) -> Any:
    """``value`` as a finite float within the bounds (``low_open``/``high_open``: exclusive).

    >>> check_float(15, "threshold", low=0, low_open=True)
    15.0
    >>> check_float(1.0, "dropout", 0, 1, high_open=True)
    Traceback (most recent call last):
    ...
    ValueError: Expected dropout in [0, 1). Received: dropout=1.0.
    """
    if value is None and allow_none:
        return None
    if not is_real(value) or not np.isfinite(value):
        raise TypeError(f"Expected {name} to be a finite number. Received: {name}={value!r}.")
    v = float(value)
    below = low is not None and (v <= low if low_open else v < low)
    above = high is not None and (v >= high if high_open else v > high)
    if below or above:
        raise ValueError(f"Expected {name} {_range_text(low, high, low_open, high_open)}. "
                         f"Received: {name}={value!r}.")
    return v


def check_floats(
    value: Any, name: str, low: float | None = None, high: float | None = None,
    low_open: bool = False, high_open: bool = False,
) -> Any:
    """A float, or a non-empty list of floats (e.g. one value per channel), each within the
    bounds of :func:`check_float`; returns a float or a list of floats.

    >>> check_floats([0.5, 0.9], "decay", 0, 1)
    [0.5, 0.9]
    """
    if not isinstance(value, (list, tuple)):
        return check_float(value, name, low, high, low_open, high_open)
    if not value:
        raise ValueError(f"Expected a number or a non-empty list for {name}. Received: {name}=[].")
    return [check_float(v, name, low, high, low_open, high_open) for v in value]


def check_int_list(value: Any, name: str, minimum: int = 1,
                   allow_empty: bool = False) -> list[int]:
    """An int or a sequence of ints >= ``minimum`` (e.g. units or filters per layer) as a list.

    >>> check_int_list(3, "hidden"), check_int_list((16, 32), "filters")
    ([3], [16, 32])
    >>> check_int_list([], "hidden")
    Traceback (most recent call last):
    ...
    ValueError: Expected hidden to be an int or a non-empty list of ints. Received: hidden=[].
    """
    values = [value] if is_int(value) else value
    if isinstance(values, (str, bytes)) or not hasattr(values, "__len__") or (
            not allow_empty and len(values) == 0):
        kind = "a list" if allow_empty else "a non-empty list"
        raise ValueError(f"Expected {name} to be an int or {kind} of ints. "
                         f"Received: {name}={value!r}.")
    return [check_int(v, name, minimum=minimum) for v in values]


def check_int_tuple(value: Any, name: str, length: int, minimum: int = 1) -> tuple:
    """An int (repeated ``length`` times) or a sequence of ``length`` ints >= ``minimum``.

    >>> check_int_tuple(3, "kernel_size", 2), check_int_tuple([1, 3, 3], "kernel_size", 3)
    ((3, 3), (1, 3, 3))
    """
    if is_int(value):
        value = (value,) * length
    ok = (isinstance(value, (list, tuple)) and len(value) == length
          and all(is_int(v) and v >= minimum for v in value))
    if not ok:
        raise ValueError(f"Expected {name} to be an int >= {minimum} or {length} such ints. "
                         f"Received: {name}={value!r}.")
    return tuple(int(v) for v in value)


def check_in(value: Any, name: str, options: Collection) -> Any:
    """``value`` if it is one of ``options``; the error lists them.

    >>> check_in("same", "padding", ("same", "valid"))
    'same'
    """
    try:
        ok = value in options
    except TypeError:  # unhashable value tested against a dict or set
        ok = False
    if not ok:
        listed = sorted(map(str, options)) if not isinstance(options, Sequence) else list(options)
        raise ValueError(f"Expected {name} to be one of {listed}. Received: {name}={value!r}.")
    return value


def __getattr__(name: str) -> Any:
    # scikit-learn's NotFittedError is imported on first use, so that importing the validators
    # stays light (spykeflow.plotting and spykeflow.datasets need only numpy).
    if name == "NotFittedError":
        from sklearn.exceptions import NotFittedError

        return NotFittedError
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def check_fitted(estimator: Any, attribute: str) -> None:
    """Raise :class:`NotFittedError` unless ``estimator`` has the learned ``attribute``."""
    if not hasattr(estimator, attribute):
        from sklearn.exceptions import NotFittedError

        raise NotFittedError(
            f"This {type(estimator).__name__} is not fitted yet. Call fit(...) before using it."
        )


def check_spikes(spikes: Any, name: str = "spikes", ndim: int | None = None,
                 min_ndim: int = 3) -> np.ndarray:
    """``spikes`` as a bool array after checking rank, emptiness and binariness.

    Parameters
    ----------
    spikes : array-like of bool or {0, 1}
        Spike trains ``(N, T, ...)`` (see :mod:`spykeflow.conventions`).
    ndim : int, optional
        Exact rank required (e.g. 5 for ``(N, T, H, W, C)``).
    min_ndim : int
        Minimum rank when ``ndim`` is None.

    >>> check_spikes(np.array([[[1, 0]]]), ndim=3).dtype
    dtype('bool')
    >>> check_spikes(np.array([[[2, 0]]]))
    Traceback (most recent call last):
    ...
    ValueError: Expected binary spikes (bool or 0/1) in spikes. Received a value 2 ...
    """
    arr = np.asarray(spikes)
    if arr.dtype == object:
        raise TypeError(f"Expected a numeric or boolean array for {name}. Received: dtype=object.")
    if ndim is not None and arr.ndim != ndim:
        axes = "(N, T, H, W, C)" if ndim == 5 else f"of rank {ndim}"
        raise ValueError(
            f"Expected {name} of rank {ndim} {axes}. Received: shape={arr.shape}. "
            "Add the missing axes (e.g. x[..., None] for one channel)."
        )
    if arr.ndim < min_ndim:
        raise ValueError(f"Expected {name} of rank >= {min_ndim}. Received: shape={arr.shape}.")
    if arr.shape[0] == 0:
        raise ValueError(f"Expected at least one sample in {name}. Received: shape={arr.shape}.")
    if arr.shape[1] == 0:
        raise ValueError(f"Expected at least one time step in {name}. Received: shape={arr.shape}.")
    if arr.dtype != bool:
        if not np.issubdtype(arr.dtype, np.number):
            raise TypeError(f"Expected bool or 0/1 values for {name}. Received: dtype={arr.dtype}.")
        bad = (arr != 0) & (arr != 1)
        if bad.any():
            example = arr[bad].flat[0].item()
            raise ValueError(
                f"Expected binary spikes (bool or 0/1) in {name}. Received a value {example!r} "
                f"(dtype {arr.dtype}). Encode real values with an encoder (e.g. "
                "spykeflow.InputLayer) first."
            )
        arr = arr.astype(bool)
    return arr


def check_finite_array(x: Any, name: str = "X", min_ndim: int = 1,
                       dtype: Any = np.float32) -> np.ndarray:
    """``x`` as a ``dtype`` array, rejecting object arrays, empty batches and NaN/inf.

    >>> check_finite_array([[1, 2]]).dtype
    dtype('float32')
    """
    arr = np.asarray(x)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
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
