"""Area resize of grey images with OpenCV's ``INTER_AREA`` semantics, as pure numpy functions
(docs/original/encoding.md#resize).

Every output pixel is the area-weighted mean of the input pixels it covers; 8-bit images are
rounded back to 8 bits exactly like OpenCV (sums accumulated in float32 in OpenCV's order, halves
to even, except an exact 2x2 shrink, where OpenCV rounds halves up). The resize is separable, so
a batch is resized with two matrix products of small ``(n_out, n_in)`` weight matrices
(:func:`area_resize_weights`); :func:`spykeflow.functional.dog.dog_responses` runs it as its
first stage.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from spykeflow._validation import check_int, check_int_tuple, is_int

__all__ = ["area_resize_weights", "resize_area"]


def _check_hw(value: Any, name: str) -> tuple[int, int]:
    """An int (a square) or a ``(height, width)`` pair of ints >= 1, as a tuple."""
    if is_int(value):
        side = check_int(value, name, minimum=1)
        return side, side
    h, w = check_int_tuple(value, name, 2)
    return h, w


def _area_table(n_in, n_out):
    """OpenCV's area decimation table for one axis: list of (dst, src, weight)."""
    scale = n_in / n_out
    table = []
    for dst in range(n_out):
        f1 = dst * scale
        f2 = f1 + scale
        cell = min(scale, n_in - f1)
        s1 = math.ceil(f1)
        s2 = min(math.floor(f2), n_in - 1)
        s1 = min(s1, s2)
        if s1 - f1 > 1e-3:
            table.append((dst, s1 - 1, (s1 - f1) / cell))
        for s in range(s1, s2):
            table.append((dst, s, 1.0 / cell))
        if f2 - s2 > 1e-3:
            table.append((dst, s2, min(min(f2 - s2, 1.0), cell) / cell))
    return table


def _upscale_table(n_in, n_out):
    """OpenCV's INTER_AREA coefficients when enlarging: linear with snapped fractions."""
    scale = n_in / n_out
    inv = n_out / n_in
    table = []
    for dst in range(n_out):
        s = math.floor(dst * scale)
        f = (dst + 1) - (s + 1) * inv
        f = 0.0 if f <= 0 else f - math.floor(f)
        if s < 0:
            s, f = 0, 0.0
        if s >= n_in - 1:
            s, f = n_in - 1, 0.0
        table.append((dst, s, 1.0 - f))
        if f:
            table.append((dst, s + 1, f))
    return table


def _axis_table(n_in, n_out):
    return _area_table(n_in, n_out) if n_in >= n_out else _upscale_table(n_in, n_out)


def area_resize_weights(n_in: int, n_out: int) -> np.ndarray:
    """1-D area-interpolation operator, ``(n_out, n_in)`` float64; rows sum to 1.

    When shrinking, output pixel ``i`` is the mean of the input interval
    ``[i s, (i + 1) s)``, ``s = n_in / n_out``, each input pixel weighted by the length it
    covers (OpenCV ``INTER_AREA``). When enlarging, OpenCV's INTER_AREA rule applies (linear
    interpolation with the fraction snapped to input cell edges).

    >>> w = area_resize_weights(4, 3)
    >>> (w * 4).round(6).tolist()
    [[3.0, 1.0, 0.0, 0.0], [0.0, 2.0, 2.0, 0.0], [0.0, 0.0, 1.0, 3.0]]
    """
    n_in, n_out = int(n_in), int(n_out)
    if n_in < 1 or n_out < 1:
        raise ValueError(f"Expected sizes >= 1. Received: n_in={n_in}, n_out={n_out}.")
    w = np.zeros((n_out, n_in))
    for dst, src, alpha in _axis_table(n_in, n_out):
        w[dst, src] += alpha
    # The shrink table weights are (length / cell); rows sum to 1 up to float error.
    return w


def _slot_table(n_in, n_out):
    """Area table as dense slots: src index and float32 weight arrays of shape (k, n_out)."""
    table = _axis_table(n_in, n_out)
    counts = np.bincount([d for d, _, _ in table], minlength=n_out)
    k = int(counts.max())
    src = np.zeros((k, n_out), np.intp)
    alpha = np.zeros((k, n_out), np.float32)
    slot = np.zeros(n_out, int)
    for dst, s, a in table:
        src[slot[dst], dst] = s
        alpha[slot[dst], dst] = np.float32(a)
        slot[dst] += 1
    return src, alpha


def _resize_hwn(xt, h_out, w_out, slots=(None, None)):
    """Area resize of a batch stored batch-last, ``(H, W, N) -> (h_out, w_out, N)``.

    Integer input: bit-exact emulation of ``cv2.resize(..., INTER_AREA)`` on 8-bit images,
    returned as float32 holding the rounded 8-bit values. Float input: float64, not rounded.
    """
    h_in, w_in, n = xt.shape
    if not _integer_dtype(xt):
        out = np.matmul(area_resize_weights(w_in, w_out), np.asarray(xt, np.float64))
        ry = area_resize_weights(h_in, h_out)
        return (ry @ out.reshape(h_in, w_out * n)).reshape(h_out, w_out, n)
    fy, fx = h_in / h_out, w_in / w_out
    if fy == int(fy) and fx == int(fx) and fy >= 1 and fx >= 1:
        fy, fx = int(fy), int(fx)
        s = xt.reshape(h_out, fy, w_out, fx, n).sum(axis=(1, 3), dtype=np.int64)
        if (fy, fx) == (2, 2):  # OpenCV's 2x2 fast path rounds halves up
            return ((s + 2) // 4).astype(np.float32)
        return np.rint(s / (fy * fx)).astype(np.float32)  # exact quotient, halves to even
    src = xt.astype(np.float32)
    # Horizontal pass then vertical pass in float32, each output accumulated in OpenCV's table
    # order (slot by slot; adding a zero-weight slot leaves a float32 sum unchanged), so the
    # rounding matches OpenCV bit for bit. Batch-last keeps every inner loop contiguous.
    xs, xa = slots[0] if slots[0] is not None else _slot_table(w_in, w_out)
    buf = np.multiply(_take(src, xs[0], 1), xa[0][:, None])
    tmp = np.empty_like(buf)
    for j in range(1, xs.shape[0]):
        buf += np.multiply(_take(src, xs[j], 1), xa[j][:, None], out=tmp)
    ys, ya = slots[1] if slots[1] is not None else _slot_table(h_in, h_out)
    out = np.multiply(_take(buf, ys[0], 0), ya[0][:, None, None])
    tmp = np.empty_like(out)
    for j in range(1, ys.shape[0]):
        out += np.multiply(_take(buf, ys[j], 0), ya[j][:, None, None], out=tmp)
    np.rint(out, out=out)
    return np.clip(out, 0, 255, out=out)


def _take(a, idx, axis):
    """``np.take(a, idx, axis)``, as a slice (no copy) when ``idx`` is a unit-step run."""
    if idx.size and np.array_equal(idx, np.arange(idx[0], idx[0] + idx.size)):
        sl = [slice(None)] * a.ndim
        sl[axis] = slice(int(idx[0]), int(idx[0]) + idx.size)
        return a[tuple(sl)]
    return np.take(a, idx, axis=axis)


def resize_area(images: Any, size: int | tuple[int, int]) -> np.ndarray:
    """Resize a batch of grey images with area interpolation (OpenCV ``INTER_AREA``).

    The original's first step (docs/original/encoding.md#resize).

    Parameters
    ----------
    images : numpy.ndarray, shape (N, H, W)
        Integer images (values 0..255) or float images.
    size : int or (int, int)
        Output ``(height, width)``; an int means a square.

    Returns
    -------
    numpy.ndarray, shape (N, h, w)
        For integer input, ``uint8``: the area-weighted mean rounded back to 8 bits exactly as
        OpenCV does when shrinking (float32 accumulation, halves to even; the 2x2 integer
        case rounds halves up); enlarging follows OpenCV's coefficients but rounds in float,
        so it may differ from OpenCV's fixed-point result by one grey level. For float input,
        float64 without rounding.

    Examples
    --------
    >>> x = np.array([[[0, 0, 0, 0], [0, 255, 255, 0], [0, 255, 255, 0], [0, 0, 0, 0]]], np.uint8)
    >>> resize_area(x, 3)[0].tolist()
    [[16, 64, 16], [64, 255, 64], [16, 64, 16]]
    """
    images = np.asarray(images)
    if images.ndim != 3:
        raise ValueError(
            f"Expected images of shape (N, H, W). Received: shape={images.shape}."
        )
    h_out, w_out = _check_hw(size, "size")
    out_dtype = np.uint8 if _integer_dtype(images) else np.float64
    if images.shape[1:] == (h_out, w_out):
        return images.astype(out_dtype, copy=True)
    out = _resize_hwn(np.ascontiguousarray(images.transpose(1, 2, 0)), h_out, w_out)
    return np.ascontiguousarray(out.transpose(2, 0, 1)).astype(out_dtype, copy=False)


def _integer_dtype(a):
    return np.issubdtype(a.dtype, np.integer) or a.dtype == bool
