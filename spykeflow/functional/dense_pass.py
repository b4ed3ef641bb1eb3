"""Inference of a frozen STDP network on dense spike tensors in ``keras.ops``: the GPU path of
:meth:`spykeflow.Network.transform`, bit-identical to the event-driven Numba path
(:mod:`~spykeflow.functional.feature_pass`, :mod:`~spykeflow.functional.pooling`).

Tensors are ``(N, T, H, W, C)``, spikes ``bool``, potentials ``float32``; ``thresholds`` is
``(N,)`` float32. The functions run on whichever Keras backend is active (TensorFlow, JAX,
PyTorch) and device is in scope; ``spykeflow._backend.jit`` compiles them (XLA on
TensorFlow and JAX), fusing the element-wise chains below into a few kernels.

**Why the features are identical, not just close.** Float addition is not associative, so a
convolution that sums a neuron's inputs in another order (cuDNN, TF32 tensor cores, a
reduction tree) could round a potential differently and, rarely, flip a threshold test or an
argmax. Here every potential is computed with the *same float32 operations in the same
order* as the Numba kernels:

* Within a step, the Numba kernel adds the kernel rows of the step's input events in event
  order, which is increasing flat index ``(row, col, channel)`` (events leave every kernel
  sorted that way, :func:`~spykeflow.functional.spike_events.sort_step`). For one output
  position that is increasing ``(i, j, channel)`` over the kernel taps. :func:`step_currents`
  folds the taps in exactly that order, one tap at a time: ``inc = where(x_tap, inc + w_tap,
  inc)``; ``0 + w == w`` exactly, so starting from 0 equals the kernel's start from the first
  weight, and a silent tap leaves the sum untouched. ``where`` (not ``inc + x * w``) keeps the
  chain free of pure add trees that a graph optimiser might regroup.
* Across steps, ``V_t = V_{t-1} + inc_t`` once per step, only where an input arrived
  (``touched``), as the kernel does; again one ``where`` per step, in step order.
* Threshold tests and maxima compare float32 values (exact); ties between maps go to the
  lowest index, taken as the smallest index whose potential equals the maximum (not
  ``argmax``, whose tie rule is not documented on every backend). Pool values are maxima
  (exact in any order) and the ``"accumulate"`` sum adds one value per step, in step order.
* Element-wise float32 operations are correctly rounded IEEE operations on every backend and
  device; a fused multiply-add cannot change anything either (no product is ever rounded).
  Weights below the smallest normal float32 count as 0 on both paths
  (:func:`~spykeflow.functional.feature_pass.flush_subnormal`), so a GPU's flush-to-zero
  mode changes nothing.

The cost of this exactness: the ``kh * kw * C_in`` taps run as a chain of element-wise
operations instead of a tensor-core convolution (for Conv1, 50 taps, about the 9.5M
multiply-adds per image of a dense convolution), which XLA fuses into one loop.
"""

from __future__ import annotations

from keras import ops

__all__ = ["pad", "step_currents", "window_any", "conv_layer",
           "final_potentials", "pool_layer", "features"]

# pool modes in the order of spykeflow.functional.pooling.POOL_MODES
_POOL_MODES = ("first_spike", "transient", "accumulate")


def pad(x, p):
    """``x`` ``(N, T, H, W, C)`` with ``p`` silent rows/columns added on every side."""
    if p == 0:
        return x
    return ops.pad(x, [[0, 0], [0, 0], [p, p], [p, p], [0, 0]])


def window_any(x, kh, kw, stride=1):
    """``(N, T, H', W', 1)`` bool: some input of the ``kh x kw`` window (any channel) spiked
    at that step; valid windows with stride ``stride``."""
    _, _, h, w, _ = x.shape
    ho, wo = (h - kh) // stride + 1, (w - kw) // stride + 1
    anyc = ops.any(x, axis=-1, keepdims=True)
    out = None
    for i in range(kh):
        for j in range(kw):
            part = anyc[:, :, i:i + stride * (ho - 1) + 1:stride,
                        j:j + stride * (wo - 1) + 1:stride]
            out = part if out is None else ops.logical_or(out, part)
    return out


def step_currents(x, weights):
    """Each step's input current ``(N, T, H-kh+1, W-kw+1, C_out)`` float32 of spikes ``x``
    ``(N, T, H, W, C_in)`` bool through ``weights`` ``(kh, kw, C_in, C_out)``, summed tap by
    tap in the order of the Numba kernel (see the module docstring)."""
    _, _, h, w, cin = x.shape
    kh, kw = int(weights.shape[0]), int(weights.shape[1])
    ho, wo = h - kh + 1, w - kw + 1
    inc = None
    for i in range(kh):
        for j in range(kw):
            for k in range(cin):
                tap = x[:, :, i:i + ho, j:j + wo, k:k + 1]
                wk = weights[i, j, k]
                inc = (ops.where(tap, wk, 0.0) if inc is None
                       else ops.where(tap, inc + wk, inc))
    return ops.cast(inc, "float32")


def _above(v, theta, strict):
    return ops.greater(v, theta) if strict else ops.greater_equal(v, theta)


def _first_max(v, best):
    """One-hot (bool) of the lowest channel index whose value equals ``best``."""
    c = v.shape[-1]
    index = ops.arange(c, dtype="int32")
    first = ops.min(ops.where(ops.equal(v, best), index, c), axis=-1, keepdims=True)
    return ops.equal(index, first)


def conv_layer(x, weights, thresholds, strict=False, inhibition=True):
    """Spikes of a frozen conv layer of IF neurons (no leak, no reset) with per-sample
    ``thresholds``: ``(spikes bool, values float32)`` on ``(N, T, H-kh+1, W-kw+1, C_out)``,
    ``values`` the potential at each spike (0 elsewhere). ``inhibition``: one spike per
    position per sample, in the argmax map (ties to the lowest index); off: each neuron
    spikes once, at its first crossing. Same rule as
    :func:`spykeflow.functional.feature_pass.conv_events`.
    """
    x, weights = ops.convert_to_tensor(x, "bool"), ops.convert_to_tensor(weights, "float32")
    kh, kw = int(weights.shape[0]), int(weights.shape[1])
    inc = step_currents(x, weights)
    touched = window_any(x, kh, kw)
    theta = ops.reshape(ops.convert_to_tensor(thresholds, "float32"), (-1, 1, 1, 1))
    n_steps = x.shape[1]
    v = ops.zeros_like(inc[:, 0])
    fired = ops.zeros_like(touched[:, 0] if inhibition else inc[:, 0], dtype="bool")
    spikes, values = [], []
    for t in range(n_steps):
        tt = touched[:, t]
        v = ops.where(tt, v + inc[:, t], v)
        if inhibition:
            best = ops.max(v, axis=-1, keepdims=True)
            new = _above(best, theta, strict) & tt & ops.logical_not(fired)
            fired = fired | new
            spike = new & _first_max(v, best)
            values.append(ops.where(spike, best, 0.0))
        else:
            spike = _above(v, theta, strict) & tt & ops.logical_not(fired)
            fired = fired | spike
            values.append(ops.where(spike, v, 0.0))
        spikes.append(spike)
    return ops.stack(spikes, axis=1), ops.stack(values, axis=1)


def final_potentials(x, weights):
    """Global max pooling of the final potentials ``(N, C_out)`` float32 (every input spike
    integrated, no threshold): :func:`spykeflow.functional.feature_pass.max_potentials`."""
    x, weights = ops.convert_to_tensor(x, "bool"), ops.convert_to_tensor(weights, "float32")
    kh, kw = int(weights.shape[0]), int(weights.shape[1])
    inc = step_currents(x, weights)
    touched = window_any(x, kh, kw)
    v = ops.zeros_like(inc[:, 0])
    for t in range(x.shape[1]):
        v = ops.where(touched[:, t], v + inc[:, t], v)
    return ops.max(v, axis=(1, 2))


def pool_layer(spikes, values, thresholds, mode="first_spike", lateral_inhibition=False,
               size=2, stride=2, strict=False):
    """Spike pooling of a conv layer's ``spikes``/``values`` ``(N, T, H, W, C)``: the rule of
    :func:`spykeflow.functional.pooling.pool_events`; returns ``(spikes, values)`` on
    ``(N, T, P, Q, C)``."""
    if mode not in _POOL_MODES:
        raise ValueError(f"Expected pool_mode in {_POOL_MODES}. Received: pool_mode={mode!r}.")
    spikes = ops.convert_to_tensor(spikes, "bool")
    values = ops.convert_to_tensor(values, "float32")
    _, n_steps, h, w, c = spikes.shape
    p, q = (h - size) // stride + 1, (w - size) // stride + 1
    cur = touched = None
    for i in range(size):
        for j in range(size):
            rows = slice(i, i + stride * (p - 1) + 1, stride)
            cols = slice(j, j + stride * (q - 1) + 1, stride)
            vs, ss = values[:, :, rows, cols], spikes[:, :, rows, cols]
            cur = vs if cur is None else ops.maximum(cur, vs)
            touched = ss if touched is None else ops.logical_or(touched, ss)
    theta = ops.reshape(ops.convert_to_tensor(thresholds, "float32"), (-1, 1, 1, 1))
    acc = ops.zeros_like(cur[:, 0])
    fired = ops.zeros_like(touched[:, 0])
    pos_fired = ops.zeros_like(touched[:, 0, ..., :1])
    out_s, out_v = [], []
    for t in range(n_steps):
        tt = touched[:, t]
        ct = ops.where(tt, cur[:, t], 0.0)
        if mode == "accumulate":
            acc = ops.where(tt, acc + ct, acc)
        if lateral_inhibition:
            x = acc if mode == "accumulate" else ct
            best = ops.max(x, axis=-1, keepdims=True)
            new = (_above(best, theta, strict) & ops.any(tt, axis=-1, keepdims=True)
                   & ops.logical_not(pos_fired))
            pos_fired = pos_fired | new
            spike = new & _first_max(x, best)
            out_v.append(ops.where(spike, best, 0.0))
        elif mode == "accumulate":
            fired = fired | (tt & _above(acc, theta, strict))
            spike = fired
            out_v.append(ops.where(spike, acc, 0.0))
        else:
            spike = tt & _above(ct, theta, strict)
            if mode == "first_spike":
                spike = spike & ops.logical_not(fired)
                fired = fired | spike
            out_v.append(ops.where(spike, ct, 0.0))
        out_s.append(spike)
    return ops.stack(out_s, axis=1), ops.stack(out_v, axis=1)


def features(spikes, values="binary"):
    """Feature vectors ``(N, C*H*W)`` flattened map-major from spikes ``(N, T, H, W, C)``:
    ``"binary"`` (uint8), ``"counts"`` (int16) or ``"first_spike_times"`` (int8, -1: none),
    as :func:`spykeflow.functional.spike_events.to_features`."""
    spikes = ops.convert_to_tensor(spikes, "bool")
    n, n_steps = spikes.shape[0], spikes.shape[1]
    if values == "binary":
        out = ops.cast(ops.any(spikes, axis=1), "uint8")
    elif values == "counts":
        out = ops.cast(ops.sum(ops.cast(spikes, "int32"), axis=1), "int16")
    elif values == "first_spike_times":
        steps = ops.reshape(ops.arange(n_steps, dtype="int32"), (1, -1, 1, 1, 1))
        first = ops.min(ops.where(spikes, steps, n_steps), axis=1)
        out = ops.cast(ops.where(first == n_steps, -1, first), "int8")
    else:
        raise ValueError("Expected values in ('binary', 'counts', 'first_spike_times'). "
                         f"Received: values={values!r}.")
    return ops.reshape(ops.transpose(out, (0, 3, 1, 2)), (n, -1))
