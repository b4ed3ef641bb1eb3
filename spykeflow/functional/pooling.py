"""Spike pooling (reference 2.4, P1-P4).

Input: the new spikes of a convolutional layer valued by their potential,
``x_t = S_t * V_t`` of shape ``(N, T, H, W, C)``. Pooling is ``size x size`` max with stride
``stride``, valid (23 -> 11 for Conv1: row and column 22 are dropped). A pool neuron's potential is
the pooled value; it spikes where that is ``>= threshold``. Modes (``pool_mode``):

``"transient"``    potential = maxpool(x_t); fires whenever an input newly spikes (<= 4 per sample)
``"accumulate"``   potential += maxpool(x_t); fires on every step from its first input onwards
``"first_spike"``  fires at the first step any input spikes, then is silent (<= 1 per sample)

Binarised ``"transient"`` features equal ``"first_spike"`` features. With
``lateral_inhibition=True`` (P2) the pool potentials go through the same inhibition as a
convolutional layer: at most one spike per pool position per sample, in the argmax map.

Feature vectors (P4) flatten ``(P, Q, C)`` map-major: ``index = c*P*Q + row*Q + col``.
"""

from __future__ import annotations

import numpy as np

from .inhibition import inhibit_sequence

__all__ = ["POOL_MODES", "FEATURE_VALUES", "max_pool", "spike_pool", "flatten_map_major", "pool_features"]

POOL_MODES = ("first_spike", "transient", "accumulate")
FEATURE_VALUES = ("binary", "counts", "first_spike_times")


def max_pool(x, size=2, stride=2):
    """Valid max pooling over the two spatial axes ``(-3, -2)`` of ``(..., H, W, C)``.

    >>> max_pool(np.arange(9.0).reshape(3, 3, 1))[..., 0].tolist()
    [[4.0]]
    """
    x = np.asarray(x)
    h, w = x.shape[-3], x.shape[-2]
    ph, pw = (h - size) // stride + 1, (w - size) // stride + 1
    out = None
    for i in range(size):
        for j in range(size):
            part = x[..., i : i + stride * (ph - 1) + 1 : stride, j : j + stride * (pw - 1) + 1 : stride, :]
            out = part if out is None else np.maximum(out, part)
    return out


def spike_pool(x, threshold, mode="first_spike", lateral_inhibition=False, size=2, stride=2, strict=False):
    """Pool spikes over a sample (or batch) ``x`` of shape ``(..., T, H, W, C)``.

    ``x`` holds the potentials of newly spiking neurons (0 elsewhere); ``threshold`` is a scalar
    or broadcastable to the leading axes. Returns bool ``(..., T, P, Q, C)``.

    >>> x = np.zeros((3, 2, 2, 1), np.float32); x[0, 0, 0, 0] = 16; x[2, 1, 1, 0] = 15
    >>> [spike_pool(x, 15.0, m)[:, 0, 0, 0].astype(int).tolist() for m in POOL_MODES]
    [[1, 0, 0], [1, 0, 1], [1, 1, 1]]
    """
    if mode not in POOL_MODES:
        raise ValueError(f"Expected pool_mode in {POOL_MODES}. Received: pool_mode={mode!r}.")
    x = np.asarray(x, np.float32)
    t_axis = x.ndim - 4
    pooled = max_pool(x, size, stride)
    if mode == "accumulate":
        pooled = np.cumsum(pooled, axis=t_axis)
    if lateral_inhibition:
        # N4 on the pool potentials with a per-pool-position mask: one spike per position
        return inhibit_sequence(pooled, threshold, strict, inhibition=True)
    theta = np.asarray(threshold, np.float32).reshape(np.shape(threshold) + (1,) * 4)
    spikes = pooled > theta if strict else pooled >= theta
    if mode == "first_spike":
        spikes = spikes & (np.cumsum(spikes, axis=t_axis) == 1)
    return spikes


def flatten_map_major(a):
    """Flatten ``(N, P, Q, C)`` to ``(N, C*P*Q)`` map-major (each map's grid contiguous).

    >>> a = np.zeros((1, 2, 2, 3)); a[0, 1, 0, 2] = 1
    >>> int(np.argmax(flatten_map_major(a)[0]))      # 2*4 + 1*2 + 0
    10
    """
    a = np.asarray(a)
    return np.transpose(a, (0, 3, 1, 2)).reshape(a.shape[0], -1)


def pool_features(pool_spikes, values="binary"):
    """Feature vectors ``(N, F)`` from pool spikes ``(N, T, P, Q, C)`` (reference P3-P4).

    ``"binary"``: spiked at least once (uint8); ``"counts"``: number of spikes (int16);
    ``"first_spike_times"``: step of the first spike, -1 if none (int8).

    >>> s = np.zeros((1, 3, 1, 1, 2), bool); s[0, 1:, 0, 0, 1] = True
    >>> [pool_features(s, v)[0].tolist() for v in FEATURE_VALUES]
    [[0, 1], [0, 2], [-1, 1]]
    """
    if values not in FEATURE_VALUES:
        raise ValueError(f"Expected feature_values in {FEATURE_VALUES}. Received: {values!r}.")
    s = np.asarray(pool_spikes, bool)
    if values == "binary":
        out = s.any(axis=1).astype(np.uint8)
    elif values == "counts":
        out = s.sum(axis=1, dtype=np.int16)
    else:
        out = np.where(s.any(axis=1), np.argmax(s, axis=1), -1).astype(np.int8)
    return flatten_map_major(out)
