"""Non-leaky integrate-and-fire (IF) dynamics of the STDP convolutional layers (reference N1-N3).

The membrane potential of a convolutional neuron is the running sum of its input currents,

    V_t = V_{t-1} + conv(x_t, W),       V_{-1} = 0,

with no leak and **no reset after a spike** (the only reset is at the next sample). A neuron is
above threshold when ``V_t >= theta`` (``strict=True``: ``V_t > theta``, the paper's wording).
Because inputs and weights are non-negative, a neuron that crossed stays above threshold.

``conv`` is cross-correlation with valid padding and stride 1, as TensorFlow's ``conv2d``.
Shapes: input spikes of one step ``(H, W, C_in)``, kernels ``(kh, kw, C_in, C_out)``, potentials
``(H - kh + 1, W - kw + 1, C_out)``.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "conv_valid",
    "if_step",
    "above_threshold",
    "cumulative_potentials",
    "draw_thresholds",
]


def conv_valid(x, w):
    """Valid, stride-1 cross-correlation of one frame ``(H, W, C_in)`` with ``(kh, kw, C_in, C_out)``.

    Returns ``(H - kh + 1, W - kw + 1, C_out)`` float32.

    >>> x = np.zeros((3, 3, 1), np.float32); x[1, 1, 0] = 1
    >>> w = np.arange(4, dtype=np.float32).reshape(2, 2, 1, 1)
    >>> conv_valid(x, w)[..., 0].tolist()
    [[3.0, 2.0], [1.0, 0.0]]
    """
    x = np.asarray(x, np.float32)
    w = np.asarray(w, np.float32)
    kh, kw = w.shape[:2]
    win = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(0, 1))
    # win: (Ho, Wo, C_in, kh, kw) -> contract with w (kh, kw, C_in, C_out)
    return np.einsum("hwcij,ijco->hwo", win, w, dtype=np.float32).astype(np.float32)


def above_threshold(potentials, threshold, strict=False):
    """Boolean mask of neurons at or above ``threshold`` (``strict``: strictly above).

    >>> above_threshold(np.array([14.9, 15.0, 15.1]), 15.0).tolist()
    [False, True, True]
    >>> above_threshold(np.array([14.9, 15.0, 15.1]), 15.0, strict=True).tolist()
    [False, False, True]
    """
    potentials = np.asarray(potentials)
    return potentials > threshold if strict else potentials >= threshold


def if_step(current, potentials, threshold, strict=False):
    """One step of the cumulative IF neuron: ``V += current``; return ``(crossed, V)``.

    ``crossed`` marks every neuron with ``V >= threshold`` after integration (no reset, so a
    neuron that crossed earlier is still marked; inhibition decides who may spike).

    >>> v = np.zeros(2, np.float32)
    >>> crossed, v = if_step(np.array([10.0, 16.0], np.float32), v, 15.0)
    >>> crossed.tolist(), v.tolist()
    ([False, True], [10.0, 16.0])
    >>> crossed, v = if_step(np.array([5.0, 0.0], np.float32), v, 15.0)
    >>> crossed.tolist(), v.tolist()
    ([True, True], [15.0, 16.0])
    """
    potentials = np.asarray(potentials, np.float32) + np.asarray(current, np.float32)
    return above_threshold(potentials, threshold, strict), potentials


def cumulative_potentials(spikes, weights):
    """Potentials of every step for a batch with fixed weights: ``(N, T, Ho, Wo, C_out)`` float32.

    ``spikes`` is ``(N, T, H, W, C_in)`` (bool or 0/1); ``weights`` ``(kh, kw, C_in, C_out)``.
    All ``N*T`` frames go through one batched TensorFlow convolution, followed by a cumulative sum
    over time (the neuron is non-leaky and never reset within a sample).

    >>> s = np.zeros((1, 2, 3, 3, 1), bool); s[0, 0, 1, 1, 0] = s[0, 1, 0, 0, 0] = True
    >>> v = cumulative_potentials(s, np.ones((2, 2, 1, 1), np.float32))
    >>> v[0, :, :, :, 0].tolist()
    [[[1.0, 1.0], [1.0, 1.0]], [[2.0, 1.0], [1.0, 1.0]]]
    """
    import tensorflow as tf

    spikes = np.asarray(spikes)
    n, t = spikes.shape[:2]
    frames = tf.reshape(tf.cast(spikes, tf.float32), (n * t,) + spikes.shape[2:])
    cur = tf.nn.conv2d(frames, tf.constant(weights, tf.float32), strides=1, padding="VALID")
    cur = tf.reshape(cur, (n, t) + tuple(cur.shape[1:]))
    return tf.cumsum(cur, axis=1).numpy()


def draw_thresholds(threshold, jitter, n, rng):
    """Per-sample thresholds ``U(theta(1 - jitter), theta(1 + jitter))`` (``jitter=0``: constant).

    ``rng`` is a :class:`numpy.random.Generator`; with ``jitter == 0`` it is not consumed.

    >>> draw_thresholds(15.0, 0.0, 3, np.random.default_rng(0)).tolist()
    [15.0, 15.0, 15.0]
    """
    if jitter == 0:
        return np.full(n, threshold, np.float32)
    return rng.uniform(threshold * (1 - jitter), threshold * (1 + jitter), size=n).astype(np.float32)
