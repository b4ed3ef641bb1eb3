"""Quantisation-clip-floor-shift (QCFS) activation and the integrate-and-fire neuron it converts to.

After Bu et al., "Optimal ANN-SNN Conversion for High-accuracy and Ultra-low-latency Spiking
Neural Networks", ICLR 2022. An ANN trained with the QCFS activation::

    a = lambda * clip(floor(z * L / lambda + phi) / L, 0, 1)                          (1)

(``z`` the pre-activation, ``lambda`` > 0 a trainable clip per layer, ``L`` quantisation steps,
``phi`` the shift, 0.5 in the paper) is converted to a spiking network by replacing (1) by
integrate-and-fire (IF) neurons with threshold ``theta = lambda``, reset by subtraction and
initial membrane ``phi * theta``::

    m(t) = v(t-1) + I(t)            I(t) = W x(t) + b, the input current of step t
    s(t) = 1 if m(t) >= theta else 0
    v(t) = m(t) - theta * s(t)      v(0) = phi * theta
    out(t) = theta * s(t)                                                             (2)

For a constant current ``I`` the IF neuron fires as early as it can, so after ``T`` steps it has
fired ``clip(floor(T I / theta + phi), 0, T)`` times (proof: :func:`if_spike_count` and the tests)
and its mean output equals (1) with ``L = T`` exactly. This is why QCFS conversion is exact for
the first layer at ``T = L`` and nearly exact for deeper layers at moderate ``T``.

Gradient (Bu et al. 2022, Sec. 4.3, Eq. 17). The floor has zero derivative almost everywhere;
the paper uses the straight-through estimator ``d floor(x)/dx = 1``. Applied to (1) as written
(clip outside the floor), with ``lo = -phi*lambda/L`` and ``hi = lambda - phi*lambda/L``::

    da/dz      = 1                      if lo <= z < hi,   else 0
    da/dlambda = (a - z) / lambda       if lo <= z < hi
                 0                      if z < lo
                 1                      if z >= hi

(``a`` is the quantised forward value). With ``phi = 0.5`` this is ``-lambda/(2L) <= z <
lambda - lambda/(2L)``, Eq. 17 of the paper. ``dlambda`` is summed over every element that
shares the clip (one ``lambda`` per layer).

All functions take and return backend tensors (``keras.ops``; any shape, float32) unless noted,
and run unchanged on the TensorFlow, JAX and PyTorch Keras backends.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from keras import ops

__all__ = [
    "qcfs",
    "qcfs_gradients",
    "QCFSParams",
    "IFState",
    "if_init",
    "if_step",
    "if_spike_count",
    "fold_batch_norm",
]


class QCFSParams(NamedTuple):
    """Parameters of a QCFS activation / its IF neuron layer.

    threshold : float or scalar tensor
        ``lambda`` of the ANN, ``theta`` of the IF neuron (> 0).
    levels : int
        ``L``, the number of quantisation steps (>= 1).
    shift : float
        ``phi``; 0.5 in the paper. The IF neuron starts at ``shift * threshold``.
    """

    threshold: float
    levels: int
    shift: float = 0.5


def _forward(z, threshold, levels, shift):
    levels = ops.cast(levels, z.dtype)
    q = ops.floor(z * levels / threshold + shift) / levels
    return threshold * ops.clip(q, 0.0, 1.0)


def qcfs_gradients(z: Any, threshold: Any, levels: int,
                   shift: float = 0.5) -> tuple[Any, Any]:
    """Element-wise straight-through derivatives ``(da/dz, da/dlambda)`` of Eq. (1).

    See the module docstring for the formula (Bu et al. 2022, Eq. 17).

    >>> dz, dl = qcfs_gradients(np.array([-0.2, 0.0, 0.5, 0.9, 2.0]), 1.0, 4)
    >>> ops.convert_to_numpy(dz).tolist()
    [0.0, 1.0, 1.0, 0.0, 0.0]
    >>> [round(v, 3) for v in ops.convert_to_numpy(dl).tolist()]
    [0.0, 0.0, 0.0, 1.0, 1.0]
    """
    z = ops.convert_to_tensor(z, "float32")
    threshold = ops.cast(threshold, z.dtype)
    levels_f = ops.cast(levels, z.dtype)
    lo = -shift * threshold / levels_f
    hi = threshold - shift * threshold / levels_f
    inside = ops.logical_and(z >= lo, z < hi)
    a = _forward(z, threshold, levels, shift)
    dz = ops.cast(inside, z.dtype)
    dlam = ops.where(inside, (a - z) / threshold, ops.cast(z >= hi, z.dtype))
    return dz, dlam


def qcfs(z: Any, threshold: Any, levels: int, shift: float = 0.5) -> Any:
    """QCFS activation ``a = lambda * clip(floor(z L / lambda + phi) / L, 0, 1)`` (Eq. 1).

    Parameters
    ----------
    z : tensor or array, any shape, float32
        Pre-activations.
    threshold : scalar tensor or keras.Variable or float
        ``lambda`` > 0 (shared by all elements of ``z``).
    levels : int
        ``L`` >= 1 quantisation steps.
    shift : float
        ``phi`` (0.5 in the paper).

    Returns
    -------
    tensor, same shape as ``z``: values in ``{0, lambda/L, ..., lambda}``.
    Gradients are the straight-through ones of :func:`qcfs_gradients` (the gradient with respect
    to ``threshold`` is summed over all elements).

    >>> a = qcfs(np.array([-0.2, 0.1, 0.125, 0.3, 0.6, 2.0], "float32"), 1.0, 4)
    >>> ops.convert_to_numpy(a).tolist()
    [0.0, 0.0, 0.25, 0.25, 0.5, 1.0]
    """
    z = ops.convert_to_tensor(z, "float32")
    # a tensor, not the variable itself: TensorFlow's custom_gradient would otherwise treat the
    # threshold as a captured variable rather than as the input it differentiates.
    threshold = ops.copy(ops.convert_to_tensor(threshold, z.dtype))

    @ops.custom_gradient
    def _qcfs(z, lam):
        a = _forward(z, lam, levels, shift)

        # TensorFlow and JAX pass the upstream gradient positionally, PyTorch by keyword.
        def grad(*args, upstream=None):
            if upstream is None:
                (upstream,) = args
            dz, dlam = qcfs_gradients(z, lam, levels, shift)
            g_lam = ops.sum(upstream * dlam)
            return upstream * dz, ops.reshape(g_lam, ops.shape(lam))

        return a, grad

    return _qcfs(z, threshold)


class IFState(NamedTuple):
    """State of a layer of IF neurons: the membrane potential ``v`` (same shape as the current)."""

    v: Any


def if_init(shape: Any, threshold: Any, shift: float = 0.5, dtype: Any = "float32") -> IFState:
    """Initial state ``v(0) = shift * threshold`` (``shift = phi``; 0 for the classic method).

    >>> ops.convert_to_numpy(if_init((1, 2), 2.0).v).tolist()
    [[1.0, 1.0]]
    """
    threshold = ops.cast(threshold, dtype)
    return IFState(ops.ones(shape, dtype) * (shift * threshold))


def if_step(current: Any, state: IFState, threshold: Any) -> tuple[Any, IFState]:
    """One step of IF neurons with reset by subtraction, Eq. (2).

    Parameters
    ----------
    current : tensor (N, ...)
        Input current ``I(t) = W x(t) + b`` of this step.
    state : IFState
        Membrane potential ``v(t-1)``.
    threshold : scalar
        ``theta`` (= the ANN's ``lambda``).

    Returns
    -------
    out : tensor (N, ...)
        ``theta * s(t)``: the spike, weighted by the threshold (what the next layer receives).
    state : IFState
        ``v(t) = m(t) - theta s(t)``.

    >>> out, st = if_step(np.array([0.3, 0.6], "float32"), if_init((2,), 1.0), 1.0)
    >>> v = ops.convert_to_numpy(st.v)
    >>> ops.convert_to_numpy(out).tolist(), [round(float(u), 3) for u in v]
    ([0.0, 1.0], [0.8, 0.1])
    """
    m = ops.add(state.v, current)
    threshold = ops.cast(threshold, m.dtype)
    spikes = ops.cast(m >= threshold, m.dtype)
    out = spikes * threshold
    return out, IFState(m - out)


def if_spike_count(current: Any, threshold: float, steps: int,
                   shift: float = 0.5) -> np.ndarray:
    """Closed-form spike count of an IF neuron (Eq. 2) driven by a constant ``current``.

    ``clip(floor(steps * current / threshold + shift), 0, steps)``. Derivation: with
    ``0 <= I <= theta`` and ``N_t = floor(t I / theta + phi)`` spikes after ``t`` steps,
    ``m(t+1) = phi theta + (t+1) I - theta N_t >= theta`` iff ``floor((t+1) I/theta + phi) >=
    N_t + 1``; the count grows by at most one per step, so ``N_{t+1} = floor((t+1) I/theta +
    phi)``. With ``I > theta`` the membrane never drops below ``phi theta`` and every step spikes;
    with ``I < 0`` it only falls and none does. Hence ``theta * N_T / T`` equals QCFS (Eq. 1)
    with ``L = T``. NumPy in, NumPy out.

    >>> if_spike_count(np.array([-1.0, 0.1, 0.125, 0.6, 3.0]), 1.0, 4).tolist()
    [0.0, 0.0, 1.0, 2.0, 4.0]
    """
    current = np.asarray(current, dtype=np.float64)
    return np.clip(np.floor(steps * current / threshold + shift), 0, steps)


def fold_batch_norm(kernel: Any, bias: Any, gamma: Any, beta: Any, mean: Any, variance: Any,
                    epsilon: float) -> tuple[np.ndarray, np.ndarray]:
    """Fold an inference-mode BatchNorm into the preceding convolution / dense layer.

    ``BN(W x + b) = g (W x + b - mu) / sqrt(var + eps) + beta`` equals ``W' x + b'`` with
    ``W' = W * s`` (``s = g / sqrt(var + eps)`` broadcast over the last, output-channel axis) and
    ``b' = (b - mu) * s + beta``. NumPy in, NumPy out.

    Parameters
    ----------
    kernel : ndarray (..., C_out)
        Conv2D kernel ``(kh, kw, C_in, C_out)`` or Dense kernel ``(F_in, C_out)``.
    bias : ndarray (C_out,) or None
        Bias (``None``: zero).
    gamma, beta, mean, variance : ndarray (C_out,) or None
        BatchNorm scale (None: 1), offset (None: 0), moving mean and moving variance.
    epsilon : float

    Returns
    -------
    kernel, bias : ndarrays of the input shapes.

    >>> k, b = fold_batch_norm(np.ones((2, 1)), None, np.array([2.0]), np.array([1.0]),
    ...                        np.array([0.5]), np.array([3.0]), 1.0)
    >>> k.ravel().tolist(), b.tolist()
    ([1.0, 1.0], [0.5])
    """
    kernel = np.asarray(kernel, dtype=np.float64)
    c_out = kernel.shape[-1]
    bias = np.zeros(c_out) if bias is None else np.asarray(bias, dtype=np.float64)
    gamma = np.ones(c_out) if gamma is None else np.asarray(gamma, dtype=np.float64)
    beta = np.zeros(c_out) if beta is None else np.asarray(beta, dtype=np.float64)
    scale = gamma / np.sqrt(np.asarray(variance, dtype=np.float64) + epsilon)
    new_kernel = kernel * scale
    new_bias = (bias - np.asarray(mean, dtype=np.float64)) * scale + beta
    return new_kernel.astype(np.float32), new_bias.astype(np.float32)
