"""Symmetric uniform weight quantisation with a straight-through gradient (``keras.ops``).

Quantisation-aware training (QAT) as in Safa et al. 2021 (``low_precision``): the forward pass uses
weights rounded to ``bits`` bits, the backward pass treats the rounding as the identity
(straight-through estimator), so the optimiser keeps updating float "latent" weights.

With ``q_max = 2**(bits - 1) - 1`` and a scale ``s`` (per layer, or per output channel)::

    q   = clip(round(w / s), -q_max, q_max)          integers, 2**bits - 1 levels (<= 2**bits)
    w_q = q * s                                      forward value
    dL/dw = dL/dw_q                                  straight-through backward

Scale modes:

* ``"max"`` (default): ``s = max|w| / q_max`` over the whole tensor (``axis=None``) or over all
  axes but ``axis`` (per channel), so the largest weight is represented exactly.
* ``"unit"``: a fixed grid on [-1, 1], ``s = 1 / q_max``, weights beyond +-1 are clipped. This is
  the closest to the paper, which rounds to a fixed grid of step ``1/(2**bits - 1)`` on [-1, 1]
  (``2**(bits+1) - 1`` levels -- effectively one extra sign bit); SpykeFlow keeps at most
  ``2**bits`` levels so that ``bits`` is the real storage width.

>>> w = [-0.9, -0.3, 0.05, 0.5, 0.6]
>>> q, s = quantize_int(w, bits=3)       # q_max = 3, s = max|w| / 3 = 0.3
>>> ops.convert_to_numpy(q).tolist()
[-3, -1, 0, 2, 2]
>>> [round(v, 3) for v in ops.convert_to_numpy(fake_quantize(w, bits=3)).tolist()]
[-0.9, -0.3, 0.0, 0.6, 0.6]
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from .._validation import check_in, check_int

__all__ = ["SCALE_MODES", "check_bits", "qmax", "scale_of", "quantize_int", "fake_quantize",
           "dequantize"]

#: Accepted scale modes.
SCALE_MODES = ("max", "unit")


def check_bits(bits: Any, name: str = "bits") -> int:
    """Validate a bit width (an int in [2, 16]; symmetric signed quantisation needs at least
    2 bits) and return it.

    >>> check_bits(1)
    Traceback (most recent call last):
    ...
    ValueError: Expected bits >= 2. Received: bits=1.
    """
    return check_int(bits, name, minimum=2, maximum=16)


def qmax(bits: int) -> int:
    """Largest integer level, ``2**(bits - 1) - 1`` (e.g. 7 for 4 bits)."""
    return 2 ** (check_bits(bits) - 1) - 1


def _reduce_axes(rank, axis):
    if axis is None:
        return None
    axis = axis % rank
    return tuple(a for a in range(rank) if a != axis)


def _float_tensor(w):
    w = ops.convert_to_tensor(w)
    if "float" not in keras.backend.standardize_dtype(w.dtype):
        w = ops.cast(w, "float32")
    return w


def scale_of(w: Any, bits: int = 4, axis: int | None = None, mode: str = "max") -> Any:
    """Quantisation scale: a scalar (``axis=None``) or one value per index of ``axis``
    (keeping dims, so it broadcasts against ``w``). Never zero (an all-zero tensor gets 1)."""
    check_in(mode, "mode", SCALE_MODES)
    w = _float_tensor(w)
    m = float(qmax(bits))
    if mode == "unit":
        return ops.convert_to_tensor(1.0 / m, dtype=keras.backend.standardize_dtype(w.dtype))
    amax = ops.max(ops.abs(w), axis=_reduce_axes(len(w.shape), axis),
                   keepdims=axis is not None)
    amax = ops.stop_gradient(amax)
    return ops.where(amax > 0, amax / m, ops.ones_like(amax))


def quantize_int(w: Any, bits: int = 4, axis: int | None = None,
                 mode: str = "max") -> tuple[Any, Any]:
    """Integer levels and scale: ``(q, scale)`` with ``q`` int32 in ``[-q_max, q_max]`` and
    ``w ~= q * scale``."""
    w = _float_tensor(w)
    s = scale_of(w, bits, axis, mode)
    m = float(qmax(bits))
    q = ops.clip(ops.round(w / s), -m, m)
    return ops.cast(q, "int32"), s


def dequantize(q: Any, scale: Any) -> Any:
    """``q * scale`` as float32 (numpy or tensor inputs)."""
    return ops.cast(q, "float32") * ops.cast(scale, "float32")


def fake_quantize(w: Any, bits: int = 4, axis: int | None = None,
                  mode: str = "max") -> Any:
    """Quantised weights in the forward pass, identity gradient in the backward pass.

    Returns ``w + stop_gradient(w_q - w)``: numerically ``w_q``, with ``d/dw = 1`` everywhere
    (also for weights clipped by ``mode="unit"``)."""
    w = _float_tensor(w)
    q, s = quantize_int(w, bits, axis, mode)
    wq = ops.cast(q, keras.backend.standardize_dtype(w.dtype)) * s
    return w + ops.stop_gradient(wq - w)
