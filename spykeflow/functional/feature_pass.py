"""Batched inference pass of a frozen STDP convolutional layer and of spike pooling (reference
2.4), in TensorFlow: no competition, no learning, lateral inhibition on (by default).

Because weights are fixed and non-negative, the potentials of all steps come from one batched
convolution over the ``N*T`` frames followed by a cumulative sum over time; inhibition then only
needs the first step at which each position crossed the threshold. Steps after the last input
spike of a batch carry no input, so their potentials equal the last computed step's (no new
conv spike can appear); they are filled in instead of convolved.
"""

from __future__ import annotations

import numpy as np

__all__ = ["conv_forward", "pool_forward"]


def _inhibit(v, cand):
    """Lateral inhibition over time-resolved potentials ``v`` (N, T, H, W, C): at each position
    only the first step with any candidate spikes, in the map of highest potential (ties to the
    lowest index)."""
    tf = _tf()
    any_c = tf.reduce_any(cand, axis=-1)
    new = any_c & (tf.cumsum(tf.cast(any_c, tf.int32), axis=1) == 1)
    vmax = tf.reduce_max(v, axis=-1, keepdims=True)
    c = tf.shape(v)[-1]
    iota = tf.range(c)
    amax = tf.reduce_min(tf.where(v >= vmax, iota, c), axis=-1)
    return new[..., None] & tf.equal(amax[..., None], iota)


def _tf():
    import tensorflow as tf

    return tf


_FNS = {}


def conv_forward(spikes, weights, thresholds, strict=False, inhibition=True, jit=False):
    """Spikes of a frozen conv layer, valued by their potential.

    Parameters
    ----------
    spikes : ndarray (N, T, H, W, C_in) bool (or counts)
    weights : ndarray (kh, kw, C_in, C_out) float32, non-negative
    thresholds : ndarray (N,) float32
    jit : bool
        Compile the post-processing with XLA (faster for large batches; compiles per shape).

    Returns
    -------
    ndarray (N, T, H-kh+1, W-kw+1, C_out) float32: ``S_t * V_t`` (0 where no new spike).

    >>> s = np.zeros((1, 3, 2, 2, 1), bool); s[0, 1, :, :, 0] = True
    >>> w = np.full((2, 2, 1, 2), 0.5, np.float32); w[..., 1] = 0.6
    >>> conv_forward(s, w, np.array([2.0], np.float32))[0, :, 0, 0].tolist()
    [[0.0, 0.0], [0.0, 2.4000000953674316], [0.0, 0.0]]
    """
    tf = _tf()
    spikes = np.asarray(spikes)
    n, T = spikes.shape[:2]
    active = np.flatnonzero(spikes.reshape(n, T, -1).any(axis=(0, 2)))
    t_eff = int(active[-1]) + 1 if active.size else 1
    key = ("conv", bool(strict), bool(inhibition), bool(jit))
    fn = _FNS.get(key)
    if fn is None:
        fn = _FNS[key] = _build_conv(strict, inhibition, bool(jit))
    out = fn(tf.constant(spikes[:, :t_eff]), tf.constant(weights, tf.float32),
             tf.constant(thresholds, tf.float32)).numpy()
    if t_eff < T:
        out = np.concatenate([out, np.zeros((n, T - t_eff) + out.shape[2:], out.dtype)], axis=1)
    return out


def _build_conv(strict, inhibition, jit):
    tf = _tf()

    @tf.function
    def conv(spikes, w):
        shape = tf.shape(spikes)
        frames = tf.reshape(tf.cast(spikes, tf.float32), tf.concat([[shape[0] * shape[1]], shape[2:]], 0))
        return tf.nn.conv2d(frames, w, strides=1, padding="VALID")   # oneDNN, multi-threaded

    @tf.function(jit_compile=jit)
    def post(cur, n, T, theta):
        cs = tf.shape(cur)
        v = tf.cumsum(tf.reshape(cur, tf.concat([[n, T], cs[1:]], 0)), axis=1)
        th = theta[:, None, None, None, None]
        cand = v > th if strict else v >= th
        if inhibition:
            s = _inhibit(v, cand)
        else:
            s = cand & (tf.cumsum(tf.cast(cand, tf.int32), axis=1) == 1)
        return tf.where(s, v, tf.zeros_like(v))

    def fn(spikes, w, theta):
        cur = conv(spikes, w)
        return post(cur, tf.shape(spikes)[0], tf.shape(spikes)[1], theta)

    return fn


def pool_forward(x, thresholds, mode="first_spike", lateral_inhibition=False, size=2, stride=2,
                 strict=False, jit=False):
    """Pool spikes (batched version of :func:`spykeflow.functional.pooling.spike_pool`).

    ``x`` is ``(N, T, H, W, C)`` float32 (``S*V`` from :func:`conv_forward`); returns the pool
    spikes ``(N, T, P, Q, C)`` bool and the pool potentials at spiking neurons (float32).

    >>> x = np.zeros((1, 3, 2, 2, 1), np.float32); x[0, 0, 0, 0, 0] = 16; x[0, 2, 1, 1, 0] = 15
    >>> s, _ = pool_forward(x, np.array([15.0], np.float32), "transient")
    >>> s[0, :, 0, 0, 0].astype(int).tolist()
    [1, 0, 1]
    """
    tf = _tf()
    key = ("pool", mode, bool(lateral_inhibition), int(size), int(stride), bool(strict), bool(jit))
    fn = _FNS.get(key)
    if fn is None:
        fn = _FNS[key] = _build_pool(mode, lateral_inhibition, size, stride, strict, bool(jit))
    s, v = fn(tf.constant(x, tf.float32), tf.constant(thresholds, tf.float32))
    return s.numpy(), v.numpy()


def _build_pool(mode, lateral_inhibition, size, stride, strict, jit):
    tf = _tf()

    @tf.function(jit_compile=jit, reduce_retracing=True)
    def fn(x, theta):
        shape = tf.shape(x)
        n, T = shape[0], shape[1]
        frames = tf.reshape(x, tf.concat([[n * T], shape[2:]], 0))
        p = tf.nn.max_pool2d(frames, size, stride, "VALID")
        ps = tf.shape(p)
        p = tf.reshape(p, tf.concat([[n, T], ps[1:]], 0))
        if mode == "accumulate":
            p = tf.cumsum(p, axis=1)
        th = theta[:, None, None, None, None]
        cand = p > th if strict else p >= th
        if lateral_inhibition:
            s = _inhibit(p, cand)
        else:
            s = cand
            if mode == "first_spike":
                s = s & (tf.cumsum(tf.cast(s, tf.int32), axis=1) == 1)
        return s, tf.where(s, p, tf.zeros_like(p))

    return fn
