"""Difference-of-Gaussians (DoG) ON/OFF filtering of grey images, as pure numpy functions.

The first stages of the SpykeFlow input encoding (docs/original/encoding.md; Vaila et al.,
arXiv 2002.11843, section II.A). One frozen :class:`DoGParams` holds every setting of the
chain; its field names are the constructor arguments of :class:`spykeflow.InputLayer`.

1. **Kernel** (:func:`dog_kernel`, docs/original/encoding.md#dog-kernel). ``"original"``: on
   a ``size x size`` grid with ``d^2 = (r - c0)^2 + (c - c0)^2``,
   ``g = (1/sqrt(2 pi)) [exp(-d^2 / 2 s1^2) / s1 - exp(-d^2 / 2 s2^2) / s2]`` (a 1-D style
   normalisation), then ``g <- (g - mean g) / max(g - mean g)``: zero-sum, centre 1.
   ``"paper"``: eq. (1) of the paper, ``K = exp(-d^2/2 s1^2)/(2 pi s1^2) -
   exp(-d^2/2 s2^2)/(2 pi s2^2)`` (2-D normalisation, no re-centring); the ON kernel uses
   ``(s1, s2) = (1, 2)``, the OFF kernel ``(2, 1)``, which is exactly ``-ON``.
2. **Geometry** (:func:`~spykeflow.functional.resize.resize_area`, :func:`correlate2d`;
   #resize, #filtering-and-border):
   resize with area interpolation (OpenCV ``INTER_AREA`` semantics), correlate at the same
   size with a reflect-101 border (``dcb|abcd|cba``) or ``"valid"`` (no padding), zero a
   frame of ``border_size`` pixels.
3. **Threshold** (:func:`threshold`, #thresholds-and-rounding): values ``< theta``
   (``<= theta`` with ``strict_threshold``) become 0; responses are then rounded to
   ``decimals`` decimals.
4. **Local normalisation** (:func:`local_normalise`, #local-normalisation; not in the paper):
   ``X <- X / ((box_sum_w(X) + eps) / w^2)`` with a ``w x w`` reflect-101 box sum, i.e. X is
   divided by its local mean. Zeros stay zero.

:func:`dog_responses` runs the whole chain on a batch and returns the ON/OFF maps
``(N, H', W', 2)`` (channel 0 = ON, 1 = OFF, see :mod:`spykeflow.conventions`) that
:mod:`spykeflow.functional.latency` turns into spike times.

Implementation notes
--------------------
* Every spatial operation is linear and separable, so it is computed for a whole batch as a
  pair of matrix products with small ``(n_out, n_in)`` 1-D operator matrices
  (:func:`correlation_matrix`, :func:`~spykeflow.functional.resize.area_resize_weights`); the
  DoG kernel is split into its
  (rank 2 or 3) singular-value terms. This is exact up to float64 rounding (~1e-13), far
  below the 5-decimal rounding of step 3.
* With ``decimals`` set, the thresholded responses are held as integers ``round(X 10^d)``
  while the box sums are taken, so the local normalisation is computed exactly and
  deterministically (equal responses in equal neighbourhoods give bit-identical values; the
  rank coder then breaks such ties by flat index).
* The original SpykeFlow filtered in float32 (``cv2.filter2D``); responses here are float64.
  On 2,000 MNIST images the two differ by at most 2e-4 (responses up to ~590), which can only
  swap the order of two responses equal to within that precision; the encodings of the first
  1,000 MNIST training images are identical spike for spike to an OpenCV-based run of the
  original algorithm, and the resize matches ``cv2.resize`` on all 2,000.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any, NamedTuple

import numpy as np

from spykeflow._validation import (
    check_bool,
    check_float,
    check_in,
    check_int,
    is_int,
    is_real,
)

from .resize import _check_hw, _integer_dtype, _resize_hwn, _slot_table

__all__ = [
    "DoGParams",
    "dog_kernel",
    "dog_kernels",
    "reflect101_index",
    "correlation_matrix",
    "correlate2d",
    "box_sum",
    "zero_border",
    "threshold",
    "local_normalise",
    "dog_responses",
    "dog_responses_inner",
]

KERNEL_KINDS = ("original", "paper")
PADDINGS = ("same", "valid")
MAX_DECIMALS = 8  # keeps the scaled-integer box sums below 2**53 (exact)


# --------------------------------------------------------------------------------------------
# The one parameter object
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class DoGParams:
    """Every setting of the DoG chain, validated and in canonical types.

    The field names are those of :class:`spykeflow.InputLayer`'s constructor, which builds
    this object from its parameters; the defaults are the original's published setting
    (docs/original/encoding.md). Construction validates and canonicalises: ``resize_to``
    becomes a ``(height, width)`` tuple (or None), ``dog_sigmas`` a tuple of two floats,
    numbers become ``int``/``float``. Frozen and hashable.

    Parameters
    ----------
    resize_to : int, (int, int) or None, default=27
        Size after the area resize; None keeps the input size.
    dog_kernel : {"original", "paper"}, default="original"
        See :func:`dog_kernel`.
    dog_size : int, default=7
        Odd kernel side, at least 3.
    dog_sigmas : (float, float), default=(1.0, 2.0)
        ON-centre (centre, surround) standard deviations in pixels, different and positive.
    dog_padding : {"same", "valid"}, default="same"
        ``"same"``: maps as large as the (resized) image, reflect-101 border. ``"valid"``:
        maps ``dog_size - 1`` pixels smaller, no border.
    border_size : int, default=2
        Width of the frame of the maps that is set to zero.
    on_threshold, off_threshold : float, default=50.0
        A response spikes only if ``>= threshold`` (``>`` with ``strict_threshold``).
    strict_threshold : bool, default=False
    decimals : int or None, default=5
        Rounding after the threshold, 0..8; None skips it.
    local_norm_window : int or None, default=17
        Local-normalisation window; None skips the normalisation.
    local_norm_eps : float, default=1e-4
        Added to the box sum before dividing (the original's constant).

    Examples
    --------
    >>> p = DoGParams(resize_to=20, on_threshold=40)
    >>> p.resize_to, p.on_threshold, p.map_shape((28, 28))
    ((20, 20), 40.0, (20, 20))
    >>> DoGParams(dog_size=4)
    Traceback (most recent call last):
    ...
    ValueError: Expected dog_size to be an odd integer >= 3. Received: dog_size=4.
    """

    resize_to: Any = 27
    dog_kernel: str = "original"
    dog_size: int = 7
    dog_sigmas: tuple[float, float] = (1.0, 2.0)
    dog_padding: str = "same"
    border_size: int = 2
    on_threshold: float = 50.0
    off_threshold: float = 50.0
    strict_threshold: bool = False
    decimals: int | None = 5
    local_norm_window: int | None = 17
    local_norm_eps: float = 1e-4

    def __post_init__(self) -> None:
        canonical = dict(
            resize_to=None if self.resize_to is None else _check_hw(self.resize_to, "resize_to"),
            dog_sigmas=_check_kernel_args(self.dog_kernel, self.dog_size, self.dog_sigmas),
            dog_size=int(self.dog_size),
            dog_padding=check_in(self.dog_padding, "dog_padding", PADDINGS),
            border_size=check_int(self.border_size, "border_size", minimum=0),
            on_threshold=check_float(self.on_threshold, "on_threshold"),
            off_threshold=check_float(self.off_threshold, "off_threshold"),
            strict_threshold=check_bool(self.strict_threshold, "strict_threshold"),
            decimals=_check_decimals(self.decimals),
            local_norm_window=check_int(self.local_norm_window, "local_norm_window",
                                        allow_none=True),
            local_norm_eps=check_float(self.local_norm_eps, "local_norm_eps", low=0),
        )
        for name, value in canonical.items():
            object.__setattr__(self, name, value)

    def map_shape(self, image_shape: tuple[int, int]) -> tuple[int, int]:
        """``(H', W')`` of the maps for images of ``image_shape``; raises if nothing is left.

        The maps are ``resize_to`` (or the image size) for ``"same"`` padding, ``dog_size - 1``
        pixels smaller for ``"valid"``; a frame of ``border_size`` pixels of them is zero.
        """
        h, w = self.resize_to if self.resize_to is not None else image_shape
        if self.dog_padding == "valid":
            if min(h, w) < self.dog_size:
                raise ValueError(
                    f"dog_padding='valid' needs images of at least {self.dog_size}x"
                    f"{self.dog_size} pixels (after the resize). Received: {h}x{w}. "
                    "Use dog_padding='same'."
                )
            h, w = h - self.dog_size + 1, w - self.dog_size + 1
        if min(h, w) <= 2 * self.border_size:
            raise ValueError(
                f"A border of {self.border_size} pixels leaves nothing of the {h}x{w} DoG "
                f"maps. Received: border_size={self.border_size}. Use a smaller border_size "
                "or larger images."
            )
        return h, w

    def kernels(self) -> tuple[np.ndarray, np.ndarray]:
        """The ``(ON, OFF)`` kernel pair of these settings (:func:`dog_kernels`)."""
        return dog_kernels(self.dog_kernel, self.dog_size, self.dog_sigmas)


def _check_decimals(decimals: Any) -> int | None:
    if decimals is not None and not (is_int(decimals) and 0 <= decimals <= MAX_DECIMALS):
        raise ValueError(
            f"Expected decimals in 0..{MAX_DECIMALS} or None. Received: decimals={decimals!r}."
        )
    return None if decimals is None else int(decimals)


# --------------------------------------------------------------------------------------------
# Kernels
# --------------------------------------------------------------------------------------------


def _check_kernel_args(kind: Any, size: Any, sigmas: Any) -> tuple[float, float]:
    """Validate a kernel's settings (named as in :class:`DoGParams`); return the sigmas."""
    check_in(kind, "dog_kernel", KERNEL_KINDS)
    if not is_int(size) or size < 3 or size % 2 == 0:
        raise ValueError(
            f"Expected dog_size to be an odd integer >= 3. Received: dog_size={size!r}."
        )
    pair = tuple(sigmas) if isinstance(sigmas, (tuple, list, np.ndarray)) else ()
    if len(pair) != 2 or not all(is_real(s) for s in pair):
        raise TypeError(
            "Expected dog_sigmas to be a pair of positive numbers (centre, surround). "
            f"Received: dog_sigmas={sigmas!r}."
        )
    s1, s2 = (float(s) for s in pair)
    if not (np.isfinite(s1) and np.isfinite(s2) and s1 > 0 and s2 > 0 and s1 != s2):
        raise ValueError(
            "Expected dog_sigmas to be two different positive finite numbers (centre, surround), "
            f"e.g. (1.0, 2.0). Received: dog_sigmas={sigmas!r}."
        )
    return s1, s2


def dog_kernel(kind: str = "original", size: int = 7,
               sigmas: tuple[float, float] = (1.0, 2.0)) -> np.ndarray:
    """The ON-centre DoG kernel, ``(size, size)`` float64 (docs/original/encoding.md#dog-kernel).

    Parameters
    ----------
    kind : {"original", "paper"}
        ``"original"``: 1-D normalisation ``1/(sqrt(2 pi) s)``, then zero mean and divided by
        the maximum (centre 1). ``"paper"``: eq. (1), 2-D normalisation ``1/(2 pi s^2)``.
    size : int
        Odd side length; offsets run over ``-(size-1)/2 .. (size-1)/2``.
    sigmas : (float, float)
        Centre and surround standard deviations in pixels (ON kernel: ``(1, 2)``).

    Returns
    -------
    numpy.ndarray, shape (size, size), float64

    Examples
    --------
    >>> k = dog_kernel()
    >>> round(float(k[3, 3]), 3), round(float(k[3, 4]), 3), round(float(k[2, 2]), 3)
    (1.0, 0.433, 0.117)
    >>> round(float(k.sum()), 12), round(float(k[k > 0].sum()), 3)
    (0.0, 3.454)
    >>> round(float(dog_kernel("paper")[3, 3]), 4)
    0.1194
    """
    s1, s2 = _check_kernel_args(kind, size, sigmas)
    offsets = np.arange(size, dtype=np.float64) - (size - 1) / 2.0
    d2 = offsets[:, None] ** 2 + offsets[None, :] ** 2
    if kind == "original":
        g = (np.exp(-d2 / (2 * s1**2)) / s1 - np.exp(-d2 / (2 * s2**2)) / s2) / math.sqrt(
            2 * math.pi
        )
        g = g - g.mean()
        return g / g.max()
    return np.exp(-d2 / (2 * s1**2)) / (2 * math.pi * s1**2) - np.exp(-d2 / (2 * s2**2)) / (
        2 * math.pi * s2**2
    )


def dog_kernels(kind: str = "original", size: int = 7,
                sigmas: tuple[float, float] = (1.0, 2.0)) -> tuple[np.ndarray, np.ndarray]:
    """The ``(ON, OFF)`` kernel pair.

    ``"original"`` has no OFF kernel of its own: the OFF response is the negated ON response,
    i.e. the OFF kernel is ``-ON``. ``"paper"`` uses ``K_{s2, s1}`` for OFF (swapped sigmas),
    which equals ``-K_{s1, s2}`` exactly, so both kinds satisfy ``OFF == -ON``.

    >>> on, off = dog_kernels("paper")
    >>> bool(np.allclose(off, -on))
    True
    """
    on = dog_kernel(kind, size, sigmas)
    if kind == "original":
        return on, -on
    return on, dog_kernel(kind, size, (sigmas[1], sigmas[0]))


# --------------------------------------------------------------------------------------------
# Correlation as separable matrix products
# --------------------------------------------------------------------------------------------


def reflect101_index(i: Any, n: int) -> np.ndarray:
    """Map integer positions onto ``0..n-1`` with a reflect-101 border (``dcb|abcd|cba``).

    This is OpenCV's ``BORDER_REFLECT_101`` and scipy.ndimage's ``mode="mirror"``.

    >>> reflect101_index(np.arange(-3, 7), 4).tolist()
    [3, 2, 1, 0, 1, 2, 3, 2, 1, 0]
    """
    i = np.asarray(i)
    if n == 1:
        return np.zeros_like(i)
    period = 2 * (n - 1)
    j = np.mod(i, period)
    return np.where(j < n, j, period - j)


def correlation_matrix(n: int, taps: Any, padding: str = "same") -> np.ndarray:
    """1-D cross-correlation with ``taps`` as an ``(n_out, n)`` matrix.

    ``out[o] = sum_k taps[k] x[o + k - r]`` with ``r = len(taps) // 2`` and a reflect-101
    border for ``padding="same"`` (``n_out = n``), or ``out[o] = sum_k taps[k] x[o + k]``
    for ``padding="valid"`` (``n_out = n - len(taps) + 1``).

    >>> correlation_matrix(4, [1.0, 2.0, 3.0]).tolist()
    [[2.0, 4.0, 0.0, 0.0], [1.0, 2.0, 3.0, 0.0], [0.0, 1.0, 2.0, 3.0], [0.0, 0.0, 4.0, 2.0]]
    """
    taps = np.asarray(taps, np.float64).ravel()
    k = taps.size
    if padding == "same":
        r = k // 2
        m = np.zeros((n, n))
        rows = np.repeat(np.arange(n), k)
        cols = reflect101_index(np.arange(n)[:, None] + np.arange(k)[None, :] - r, n).ravel()
        np.add.at(m, (rows, cols), np.tile(taps, n))
        return m
    if padding == "valid":
        n_out = n - k + 1
        if n_out < 1:
            raise ValueError(
                f"A 'valid' correlation needs at least {k} pixels per axis. Received: {n}. "
                "Use padding='same' or a larger image."
            )
        m = np.zeros((n_out, n))
        for j, t in enumerate(taps):
            m[np.arange(n_out), np.arange(n_out) + j] += t
        return m
    raise ValueError(f"Expected padding in {list(PADDINGS)}. Received: padding={padding!r}.")


def _right(x, op):
    """``x @ op.T`` over the last axis of a stack (one BLAS call)."""
    out = x.reshape(-1, x.shape[-1]) @ op.T
    return out.reshape(x.shape[:-1] + (op.shape[0],))


def _apply_separable_t(x, row_ops, col_ops):
    """``sum_k row_ops[k] @ x[b] @ col_ops[k].T`` for a stack ``x`` (N, H, W), returned
    TRANSPOSED, shape (N, W', H'): two BLAS calls and one transposing copy."""
    n, h, _ = x.shape
    k = len(row_ops)
    w_out = col_ops[0].shape[0]
    y = _right(x, np.concatenate(col_ops, axis=0))  # (N, H, k W')
    y = np.ascontiguousarray(y.reshape(n, h, k, w_out).transpose(0, 3, 2, 1))  # (N, W', k, H)
    return _right(y.reshape(n, w_out, k * h), np.concatenate(row_ops, axis=1))  # (N, W', H')


def _apply_separable(x, row_ops, col_ops):
    """``sum_k row_ops[k] @ x[b] @ col_ops[k].T`` for a stack ``x`` (N, H, W)."""
    return np.ascontiguousarray(_apply_separable_t(x, row_ops, col_ops).transpose(0, 2, 1))


def _separable_terms(kernel, tol=1e-12):
    u, s, vt = np.linalg.svd(kernel)
    keep = s > tol * max(s[0], 1e-300)
    return [(u[:, i] * s[i], vt[i]) for i in np.flatnonzero(keep)]


def correlate2d(images: Any, kernel: Any, padding: str = "same") -> np.ndarray:
    """Cross-correlate each image of a batch with a 2-D kernel (no flip, like ``cv2.filter2D``).

    Parameters
    ----------
    images : array-like, shape (N, H, W)
    kernel : array-like, shape (k, k), odd k
    padding : {"same", "valid"}
        ``"same"``: output (N, H, W), reflect-101 border. ``"valid"``: output
        (N, H-k+1, W-k+1), no border.

    Returns
    -------
    numpy.ndarray, float64

    Examples
    --------
    >>> x = np.zeros((1, 5, 5)); x[0, 2, 2] = 1.0
    >>> k = np.arange(9.0).reshape(3, 3)
    >>> correlate2d(x, k)[0, 1:4, 1:4].round(9).tolist()  # the kernel, rotated 180 degrees
    [[8.0, 7.0, 6.0], [5.0, 4.0, 3.0], [2.0, 1.0, 0.0]]
    >>> correlate2d(x, k, padding="valid").shape
    (1, 3, 3)
    """
    x = np.asarray(images, np.float64)
    kernel = np.asarray(kernel, np.float64)
    if x.ndim != 3:
        raise ValueError(f"Expected images of shape (N, H, W). Received: shape={x.shape}.")
    if kernel.ndim != 2 or kernel.shape[0] != kernel.shape[1] or kernel.shape[0] % 2 == 0:
        raise ValueError(f"Expected an odd square kernel. Received: shape={kernel.shape}.")
    terms = _separable_terms(kernel)
    if not terms:
        h, w = x.shape[1:]
        if padding == "valid":
            h, w = h - kernel.shape[0] + 1, w - kernel.shape[0] + 1
        return np.zeros((x.shape[0], h, w))
    rows = [correlation_matrix(x.shape[1], u, padding) for u, _ in terms]
    cols = [correlation_matrix(x.shape[2], v, padding) for _, v in terms]
    return _apply_separable(x, rows, cols)


def box_sum(images: Any, window: int) -> np.ndarray:
    """Sum over a ``window x window`` neighbourhood, same size, reflect-101 border.

    >>> box_sum(np.ones((1, 4, 4)), 3)[0].tolist()
    [[9.0, 9.0, 9.0, 9.0], [9.0, 9.0, 9.0, 9.0], [9.0, 9.0, 9.0, 9.0], [9.0, 9.0, 9.0, 9.0]]
    """
    x = np.asarray(images, np.float64)
    ones = np.ones(int(window))
    r = correlation_matrix(x.shape[1], ones, "same")
    c = correlation_matrix(x.shape[2], ones, "same")
    return _apply_separable(x, [r], [c])


# --------------------------------------------------------------------------------------------
# Point-wise steps
# --------------------------------------------------------------------------------------------


def zero_border(x: Any, width: int) -> np.ndarray:
    """Return a copy of ``x`` (..., H, W) with a frame of ``width`` pixels set to 0.

    >>> zero_border(np.ones((1, 5, 5)), 2)[0].astype(int).tolist()[2]
    [0, 0, 1, 0, 0]
    """
    out = np.array(x, copy=True)
    if width > 0:
        out[..., :width, :] = 0
        out[..., -width:, :] = 0
        out[..., :, :width] = 0
        out[..., :, -width:] = 0
    return out


def threshold(x: Any, theta: float, strict: bool = False) -> np.ndarray:
    """Zero every value ``< theta`` (``<= theta`` if ``strict``); larger values pass unchanged.

    The original uses ``>=`` to keep a value (``strict=False``); the paper's eq. (3) uses ``>``
    (docs/original/encoding.md#thresholds-and-rounding).

    >>> threshold(np.array([49.0, 50.0, 51.0]), 50).tolist()
    [0.0, 50.0, 51.0]
    >>> threshold(np.array([49.0, 50.0, 51.0]), 50, strict=True).tolist()
    [0.0, 0.0, 51.0]
    """
    x = np.asarray(x)
    keep = x > theta if strict else x >= theta
    return np.where(keep, x, 0).astype(x.dtype, copy=False)


def local_normalise(x: Any, window: int = 17, eps: float = 1e-4) -> np.ndarray:
    """Divide each value by the mean of its ``window x window`` neighbourhood.

    The original's step after the threshold (docs/original/encoding.md#local-normalisation).

    ``X / ((box_sum(X) + eps) / window^2)`` per map (reflect-101 border). Zeros stay zero,
    and an isolated response outranks an equally strong one in a busy region.

    Parameters
    ----------
    x : array-like, shape (N, H, W)
    window : int
    eps : float

    >>> x = np.zeros((1, 5, 5)); x[0, 2, 2] = 2.0
    >>> round(float(local_normalise(x, 3, eps=1e-9)[0, 2, 2]), 6)
    9.0
    """
    x = np.asarray(x, np.float64)
    return x / ((box_sum(x, window) + eps) / float(window) ** 2)


# --------------------------------------------------------------------------------------------
# The whole chain
# --------------------------------------------------------------------------------------------


def dog_responses(images: Any, params: DoGParams | None = None, **fields: Any) -> np.ndarray:
    """Grey images -> thresholded (and locally normalised) ON/OFF DoG maps.

    Steps: optional area resize to ``resize_to``; float correlation with the ON kernel
    (OFF = -ON, see :func:`dog_kernels`); zero a ``border_size``-pixel frame; per channel zero
    values below the threshold (:func:`threshold`); round to ``decimals``; optional
    :func:`local_normalise` with ``local_norm_window``. The images are not validated (see
    :class:`spykeflow.InputLayer`, which does).

    Parameters
    ----------
    images : numpy.ndarray, shape (N, H, W)
        Grey values 0..255 (integer or float).
    params : DoGParams, optional
        The settings; default ``DoGParams()`` (the original's published setting).
    **fields
        :class:`DoGParams` fields overriding those of ``params`` (e.g. ``border_size=0``).

    Returns
    -------
    numpy.ndarray, shape (N, H', W', 2), float64
        Channel 0 = ON, 1 = OFF; 0 where no spike will be emitted.

    Examples
    --------
    >>> img = np.zeros((1, 28, 28), np.uint8); img[0, 10:18, 13:15] = 255
    >>> r = dog_responses(img)
    >>> r.shape, bool((r >= 0).all()), int((r[..., 0] > 0).sum()) > 0
    ((1, 27, 27, 2), True, True)
    >>> dog_responses(img, local_norm_window=None, dog_padding="valid", resize_to=None).shape
    (1, 22, 22, 2)
    """
    p = params if params is not None else DoGParams()
    if fields:
        p = dataclasses.replace(p, **fields)
    inner, full_hw = dog_responses_inner(images, p)
    n, b = inner.shape[0], p.border_size
    maps = np.zeros((n, 2) + full_hw)
    maps[:, :, b : full_hw[0] - b, b : full_hw[1] - b] = inner
    maps = maps.transpose(0, 2, 3, 1)
    return np.ascontiguousarray(maps) + 0.0  # + 0.0 turns -0.0 into 0.0


class _Plan(NamedTuple):
    """Precomputed operators of :func:`dog_responses_inner` for one input geometry."""

    resize: tuple[int, int] | None  # (h, w) after the resize, or None
    x_slots: tuple | None  # OpenCV area tables (src, weight) for the uint8 resize, or None
    y_slots: tuple | None
    cols: np.ndarray  # (k w_in, W): the k column correlations, stacked
    rows_hk: np.ndarray  # (h_in, H k): the k row correlations, column index (h, k)
    box_r: np.ndarray | None  # (h_in, h_in) or None
    box_c: np.ndarray | None  # (w_in, w_in) or None
    inv_area: float  # 1 / window^2 of the local normalisation (1.0 without it)
    full: tuple  # (H', W') map size before the frame is cut off
    inner: tuple  # (h_in, w_in)


@functools.lru_cache(maxsize=64)
def _plan(shape: tuple[int, int], is_int: bool, p: DoGParams) -> _Plan:
    h, w = shape
    h_full, w_full = p.map_shape(shape)  # raises if the frame leaves nothing
    x_slots = y_slots = None
    resize = None
    if p.resize_to is not None and (h, w) != p.resize_to:
        if is_int and not (h % p.resize_to[0] == 0 and w % p.resize_to[1] == 0):
            x_slots, y_slots = _slot_table(w, p.resize_to[1]), _slot_table(h, p.resize_to[0])
        resize = p.resize_to
        h, w = p.resize_to
    on_kernel, _ = p.kernels()
    terms = _separable_terms(on_kernel)
    border = p.border_size
    inner_r = slice(border, h_full - border)
    inner_c = slice(border, w_full - border)
    h_in, w_in = h_full - 2 * border, w_full - 2 * border
    cols = np.concatenate([correlation_matrix(w, v, p.dog_padding)[inner_c] for _, v in terms])
    rows = np.stack([correlation_matrix(h, u, p.dog_padding)[inner_r] for u, _ in terms])
    rows_hk = np.ascontiguousarray(rows.transpose(1, 2, 0).reshape(h_in, h * len(terms)))
    box_r = box_c = None
    inv_area = 1.0
    if p.local_norm_window is not None:
        inv_area = 1.0 / float(p.local_norm_window) ** 2
        ones = np.ones(p.local_norm_window)
        # The frame is zero, so only the inner columns of the box operators contribute.
        box_r = correlation_matrix(h_full, ones, "same")[inner_r, inner_r].copy()
        box_c = correlation_matrix(w_full, ones, "same")[inner_c, inner_c].copy()
    plan = _Plan(resize, x_slots, y_slots, cols, rows_hk, box_r, box_c, inv_area,
                 (h_full, w_full), (h_in, w_in))
    for a in (cols, rows_hk, box_r, box_c, *(x_slots or ()), *(y_slots or ())):
        if a is not None:
            a.flags.writeable = False
    return plan


def dog_responses_inner(images: np.ndarray, params: DoGParams) -> tuple[np.ndarray, tuple]:
    """:func:`dog_responses` without the zero frame: ``(maps, (H', W'))``.

    ``maps`` has shape (N, 2, H' - 2 border, W' - 2 border) (channels first: ON, OFF) and holds
    the responses inside the frame; ``(H', W')`` is the full map size. Only the inside is
    computed, which saves a quarter of the work in the published 27x27 / 2-pixel setting.
    The batch is processed batch-last, ``(H, W, N)``, so that every spatial operator is one
    large matrix product and every element-wise step runs over contiguous memory; keep ``N``
    around 100 (see :class:`spykeflow.InputLayer` ``batch_size``) so that the work fits in cache.
    """
    p = params
    x = np.asarray(images)
    n, h, w = x.shape
    plan = _plan((h, w), _integer_dtype(x), p)
    xt = np.ascontiguousarray(x.transpose(1, 2, 0))  # (H, W, N)
    if plan.resize is not None:
        h, w = plan.resize
        xt = _resize_hwn(xt, h, w, slots=(plan.x_slots, plan.y_slots))
    xt = xt.astype(np.float64, copy=False)
    h_in, w_in = plan.inner
    k = plan.rows_hk.shape[1] // h
    # ON = sum_k R_k X C_k^T with the 1-D correlations R_k, C_k (rows restricted to the inside).
    y = np.matmul(plan.cols, xt)  # (H, k w_in, N); row index (h, k) after the reshape
    on = (plan.rows_hk @ y.reshape(h * k, w_in * n)).reshape(h_in, w_in, n)
    if p.strict_threshold:
        keep_on, keep_off = on > p.on_threshold, on < -p.off_threshold
    else:
        keep_on, keep_off = on >= p.on_threshold, on <= -p.off_threshold
    scale = 1.0
    if p.decimals is not None:
        scale = 10.0 ** p.decimals
        on *= scale
        np.rint(on, out=on)  # integers (rint(-v) == -rint(v)): the box sums below are exact
    maps = np.empty((2, h_in, w_in, n))
    np.multiply(on, keep_on, out=maps[0])
    np.multiply(on, keep_off, out=maps[1])
    np.negative(maps[1], out=maps[1])  # OFF = -ON
    if plan.box_r is not None and plan.box_c is not None:  # local normalisation
        local = np.matmul(plan.box_r, maps.reshape(2, h_in, w_in * n)).reshape(maps.shape)
        local = np.matmul(plan.box_c, local)
        local += p.local_norm_eps * scale
        local *= plan.inv_area
        np.divide(maps, local, out=maps)
    elif p.decimals is not None:
        maps /= scale
    maps += 0.0  # -0.0 -> 0.0
    return np.ascontiguousarray(maps.transpose(3, 0, 1, 2)), plan.full
