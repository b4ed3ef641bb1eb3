"""NumPy kernels of the stateless NIR primitives, channels first (NIR's layout).

Every function takes a batch ``x`` of shape ``(n, C, *spatial)`` (or ``(n, F)`` for the affine
maps) and returns a new array; none keeps state. Convolutions are cross-correlations, as in
PyTorch and NIR: ``y[o, p] = b[o] + sum_{c, k} w[o, c, k] x[c, p * stride + k * dilation]``
over the padded input, with ``groups`` splitting the channels.

Padding is given per spatial axis as ``(before, after)`` pairs; :func:`resolve_padding` turns
NIR's ``int``, per-axis ints, ``"valid"`` and ``"same"`` (stride 1: ``(k - 1) * dilation``
zeros, the smaller half before, as PyTorch and Keras do) into that form.

>>> x = np.arange(4.0).reshape(1, 1, 4)                   # one sample, one channel, L = 4
>>> w = np.array([[[1.0, -1.0]]])                          # (out, in, k)
>>> conv(x, w, None, (1,), ((0, 0),), (1,), 1).tolist()    # x[p] - x[p + 1]
[[[-1.0, -1.0, -1.0]]]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = ["resolve_padding", "conv", "sum_pool", "conv_output_size"]


def _per_axis(value: Any, n: int, name: str) -> tuple[int, ...]:
    arr = np.asarray(value).reshape(-1)
    if arr.size == 1:
        arr = np.repeat(arr, n)
    if arr.size != n:
        raise ValueError(f"Expected {name} to be one int or {n} ints (one per spatial axis). "
                         f"Received: {name}={value!r}.")
    return tuple(int(v) for v in arr)


def resolve_padding(padding: Any, kernel: Sequence[int], dilation: Sequence[int],
                    stride: Sequence[int]) -> tuple[tuple[int, int], ...]:
    """``(before, after)`` zeros per spatial axis from a NIR padding value.

    >>> resolve_padding("same", (3, 4), (1, 1), (1, 1))
    ((1, 1), (1, 2))
    >>> resolve_padding(2, (3,), (1,), (2,)), resolve_padding("valid", (3,), (1,), (1,))
    (((2, 2),), ((0, 0),))
    """
    n = len(kernel)
    if isinstance(padding, bytes):
        padding = padding.decode()
    if isinstance(padding, np.ndarray) and padding.dtype.kind in "SUO":
        padding = str(padding.reshape(-1)[0].decode() if padding.dtype.kind == "S"
                      else padding.reshape(-1)[0])
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * n
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(
                    "Expected stride 1 with padding='same' (its output size is the input size "
                    f"only then). Received: stride={tuple(stride)}. Give the padding as ints.")
            pads = []
            for k, d in zip(kernel, dilation):
                total = (int(k) - 1) * int(d)
                pads.append((total // 2, total - total // 2))
            return tuple(pads)
        raise ValueError("Expected padding 'same', 'valid' or ints. "
                         f"Received: padding={padding!r}.")
    sizes = _per_axis(padding, n, "padding")
    if any(p < 0 for p in sizes):
        raise ValueError(f"Expected non-negative padding. Received: padding={padding!r}.")
    return tuple((p, p) for p in sizes)


def conv_output_size(size: int, kernel: int, stride: int, pad: tuple[int, int],
                     dilation: int) -> int:
    """Output length of one axis: ``floor((size + pads - dilation (kernel - 1) - 1) / stride) + 1``.

    >>> conv_output_size(28, 5, 1, (0, 0), 1), conv_output_size(23, 2, 2, (0, 0), 1)
    (24, 11)
    """
    return (size + pad[0] + pad[1] - dilation * (kernel - 1) - 1) // stride + 1


def _windows(x: np.ndarray, kernel: Sequence[int], stride: Sequence[int],
             pads: Sequence[tuple[int, int]], dilation: Sequence[int]) -> np.ndarray:
    """Strided windows ``(n, C, *out, *kernel)`` of the zero-padded ``x`` ``(n, C, *spatial)``."""
    nd = len(kernel)
    if any(p != (0, 0) for p in pads):
        x = np.pad(x, ((0, 0), (0, 0)) + tuple(pads))
    extent = tuple((k - 1) * d + 1 for k, d in zip(kernel, dilation))
    if any(e > s for e, s in zip(extent, x.shape[2:])):
        raise ValueError(
            f"Kernel extent {extent} (kernel {tuple(kernel)}, dilation {tuple(dilation)}) is "
            f"larger than the padded input {x.shape[2:]}.")
    win = sliding_window_view(x, extent, axis=tuple(range(2, 2 + nd)))
    index = (slice(None), slice(None))
    index += tuple(slice(None, None, s) for s in stride)
    index += tuple(slice(None, None, d) for d in dilation)
    return win[index]


def conv(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None, stride: Sequence[int],
         pads: Sequence[tuple[int, int]], dilation: Sequence[int], groups: int) -> np.ndarray:
    """N-D cross-correlation of ``x`` ``(n, C_in, *spatial)`` with ``weight``
    ``(C_out, C_in / groups, *kernel)`` (NIR and PyTorch layout); returns ``(n, C_out, *out)``."""
    nd = weight.ndim - 2
    n, c_in = x.shape[:2]
    c_out, c_group = weight.shape[:2]
    if c_in != c_group * groups or c_out % groups:
        raise ValueError(
            f"Expected C_in = weight.shape[1] * groups and C_out divisible by groups. Received: "
            f"C_in={c_in}, weight.shape={weight.shape}, groups={groups}.")
    win = _windows(x, weight.shape[2:], stride, pads, dilation)   # (n, C, *out, *k)
    out_sp = win.shape[2:2 + nd]
    # (n, *out, C, *k): one row per output position, one column per (channel, tap)
    perm = (0,) + tuple(range(2, 2 + nd)) + (1,) + tuple(range(2 + nd, 2 + 2 * nd))
    cols = win.transpose(perm)
    o_per = c_out // groups
    taps = c_group * int(np.prod(weight.shape[2:]))
    parts = []
    for g in range(groups):
        sel = (slice(None),) * (1 + nd) + (slice(g * c_group, (g + 1) * c_group),)
        xg = cols[sel].reshape(-1, taps)
        wg = weight[g * o_per:(g + 1) * o_per].reshape(o_per, taps)
        parts.append(xg @ wg.T)
    out = parts[0] if groups == 1 else np.concatenate(parts, axis=1)
    out = out.reshape((n,) + tuple(out_sp) + (c_out,))
    out = np.moveaxis(out, -1, 1)
    if bias is not None:
        out = out + bias.reshape((1, c_out) + (1,) * nd)
    return np.ascontiguousarray(out)


def sum_pool(x: np.ndarray, kernel: Sequence[int], stride: Sequence[int],
             pads: Sequence[tuple[int, int]]) -> np.ndarray:
    """Sum over ``kernel`` windows of ``x`` ``(n, C, *spatial)`` (zero padding).

    >>> sum_pool(np.ones((1, 1, 4, 4)), (2, 2), (2, 2), ((0, 0), (0, 0)))[0, 0].tolist()
    [[4.0, 4.0], [4.0, 4.0]]
    """
    nd = len(kernel)
    win = _windows(x, kernel, stride, pads, (1,) * nd)
    return win.sum(axis=tuple(range(2 + nd, 2 + 2 * nd)))
