"""Leaky integrate-and-fire (LIF) dynamics as pure step functions (``keras.ops``).

Every neuron model here is a function ``step(current, state, params) -> (output, state)`` over
small typed :class:`~typing.NamedTuple` parameters and state, plus a ``*_sequence`` function that
runs the step over the time axis of ``(N, T, ...)`` currents with one
:func:`spykeflow._backend.scan` (``keras.ops.scan``: one while loop on TensorFlow,
``jax.lax.scan`` on JAX, a Python loop on PyTorch; differentiable, so gradients flow through
time). Layers in :mod:`spykeflow.layers.lif` compute the synaptic currents of all time steps with
one big matmul/conv and then call these functions. The same code runs on the TensorFlow, JAX and
PyTorch Keras backends.

LIF update (one time step, all tensors broadcast against ``current``)::

    i[t]  = alpha * i[t-1] + x[t]          (synaptic current; i[t] = x[t] when alpha is None)
    u[t]  = beta * v[t-1] + i[t]           (membrane before the spike)
    s[t]  = H(u[t] - theta)                (spike; surrogate derivative in the backward pass)
    v[t]  = u[t] - s[t] * theta            reset="subtract"
            u[t] * (1 - s[t])              reset="zero"
            u[t]                           reset="none"
    v[t]  = max(v[t], floor * theta)       only if floor is not None (Safa et al.: floor = -1)

``beta`` is the membrane decay (1 = integrate-and-fire, 0 = no memory), ``theta`` the threshold,
``alpha`` the synaptic-current decay. The state carries the *post-reset* membrane ``v``, so the
"rest" form of Samadzadeh et al., ``U(t) = beta (1 - O(t-1)) U(t-1) + g(O_in(t))``, is exactly
``reset="zero"``. ``H`` is any callable spike function; normally a surrogate from
:mod:`spykeflow.functional.surrogate` (which receives ``u - theta``), but a smooth activation can be
passed instead (e.g. a ReLU during the first epochs of a switchable-activation schedule).

Shapes: ``current`` and the state tensors share a shape, e.g. ``(N, units)`` or ``(N, H, W, C)``;
``beta``, ``threshold`` and ``alpha`` are scalars or broadcast over the trailing (channel) axis.

Example (IF neuron, threshold 1, reset by subtraction)::

    >>> p = LIFParams(beta=1.0, threshold=1.0, reset="subtract")
    >>> x = [[[0.6], [0.6], [0.6], [0.6]]]        # (N=1, T=4, F=1)
    >>> s, state = lif_sequence(x, p)
    >>> ops.convert_to_numpy(s[0, :, 0]).tolist()
    [0.0, 1.0, 0.0, 1.0]
    >>> round(float(state.v[0, 0]), 4)
    0.4
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import keras
from keras import ops

from .. import _backend
from .._validation import check_bool, check_in
from . import surrogate as _surrogate

__all__ = [
    "RESETS",
    "LIFParams",
    "LIFState",
    "LIParams",
    "LIState",
    "lif_step",
    "if_step",
    "li_step",
    "initial_state",
    "lif_sequence",
    "li_sequence",
]

#: Accepted values of :attr:`LIFParams.reset`.
RESETS = ("subtract", "zero", "none")


class LIFParams(NamedTuple):
    """Parameters of a LIF neuron population (scalars or tensors broadcasting over channels).

    Attributes
    ----------
    beta : float or tensor in [0, 1]
        Membrane decay per time step; 1 gives integrate-and-fire.
    threshold : float or tensor > 0
        Firing threshold theta.
    reset : {"subtract", "zero", "none"}
        What a spike does to the membrane.
    alpha : float, tensor or None
        Synaptic-current decay; None means no synaptic current (the input drives ``u`` directly).
    spike_fn : callable or None
        ``spike_fn(u - theta) -> spikes``; None means the Gaussian surrogate (ConvSNN default).
    floor : float or None
        Lower bound of the membrane as a multiple of the threshold (``v >= floor * theta``);
        Safa et al. clamp at ``-theta`` (``floor=-1``). None means unbounded.
    detach_reset : bool
        Stop the gradient through the reset term (the spike in ``s * theta``).
    """

    beta: Any = 0.9
    threshold: Any = 1.0
    reset: str = "subtract"
    alpha: Any = None
    spike_fn: Callable | None = None
    floor: float | None = None
    detach_reset: bool = False


class LIFState(NamedTuple):
    """State of a LIF population: post-reset membrane ``v`` and synaptic current ``i``."""

    v: Any
    i: Any


class LIParams(NamedTuple):
    """Parameters of a leaky integrator (non-spiking readout): decays ``beta`` and ``alpha``."""

    beta: Any = 0.9
    alpha: Any = None


class LIState(NamedTuple):
    """State of a leaky integrator: membrane ``v`` and synaptic current ``i``."""

    v: Any
    i: Any


def _default_spike():
    return _surrogate.get("gaussian")


def _spike_fn(params: LIFParams) -> Callable:
    return params.spike_fn if params.spike_fn is not None else _default_spike()


def _lif_update(current, v, i, params, spike_fn):
    """The LIF equations of one step (no validation): ``(spikes, v_new, i_new)``."""
    if params.alpha is None:
        i_new = current
    else:
        i_new = params.alpha * i + current
    u = params.beta * v + i_new
    theta = params.threshold
    s = spike_fn(u - theta)
    r = ops.stop_gradient(s) if params.detach_reset else s
    if params.reset == "subtract":
        v = u - r * theta
    elif params.reset == "zero":
        v = u * (1.0 - r)
    else:
        v = u
    if params.floor is not None:
        v = ops.maximum(v, params.floor * theta)
    return s, v, i_new


def _li_update(current, v, i, params):
    """The leaky-integrator equations of one step: ``(v_new, i_new)``."""
    i_new = current if params.alpha is None else params.alpha * i + current
    return params.beta * v + i_new, i_new


def _tensor(x):
    return None if x is None else ops.convert_to_tensor(x)


def initial_state(current_like: Any) -> LIFState:
    """Zero :class:`LIFState` shaped like one time step of ``current_like`` (e.g. ``x[:, 0]``).

    The synaptic current ``i`` is also zero (it is unused when ``alpha`` is None)."""
    zeros = ops.zeros_like(current_like)
    return LIFState(v=zeros, i=zeros)


def lif_step(current: Any, state: LIFState, params: LIFParams) -> tuple[Any, LIFState]:
    """One LIF time step. Returns ``(spikes, new_state)``; see the module docstring.

    Parameters
    ----------
    current : tensor ``(N, ...)``
        Input current ``x[t]`` (already weighted).
    state : LIFState
        ``v`` and ``i`` of the previous step, same shape as ``current``.
    params : LIFParams

    >>> p = LIFParams(beta=0.5, threshold=1.0, reset="zero")
    >>> s, st = lif_step([0.8], LIFState(v=[0.6], i=[0.0]), p)
    >>> float(s[0]), float(st.v[0])      # u = 0.5*0.6 + 0.8 = 1.1 >= 1 -> spike, reset to 0
    (1.0, 0.0)
    """
    check_in(params.reset, "reset", RESETS)
    s, v, i = _lif_update(_tensor(current), _tensor(state.v), _tensor(state.i), params,
                          _spike_fn(params))
    return s, LIFState(v=v, i=i)


def if_step(current: Any, state: LIFState, params: LIFParams) -> tuple[Any, LIFState]:
    """Integrate-and-fire step: :func:`lif_step` with ``beta = 1`` (no leak)."""
    return lif_step(current, state, params._replace(beta=1.0))


def li_step(current: Any, state: LIState, params: LIParams) -> tuple[Any, LIState]:
    """One leaky-integrator step (a non-spiking readout neuron). Returns ``(v, new_state)``::

        i[t] = alpha * i[t-1] + x[t]   (i = x when alpha is None);   v[t] = beta * v[t-1] + i[t]

    >>> v, st = li_step([1.0], LIState(v=[2.0], i=[0.0]), LIParams(beta=0.5))
    >>> float(v[0])
    2.0
    """
    v, i = _li_update(_tensor(current), _tensor(state.v), _tensor(state.i), params)
    return v, LIState(v=v, i=i)


def _time_major(x):
    perm = [1, 0] + list(range(2, len(x.shape)))
    return ops.transpose(x, perm)


def _check_sequence(currents):
    currents = ops.convert_to_tensor(currents)
    if "float" not in keras.backend.standardize_dtype(currents.dtype):
        currents = ops.cast(currents, "float32")
    try:
        rank = len(currents.shape)
    except ValueError:  # a TensorFlow tensor of unknown rank
        rank = None
    if rank is None or rank < 2:
        raise ValueError(
            "Expected currents of shape (N, T, ...) with time on axis 1. "
            f"Received: shape={currents.shape}."
        )
    if currents.shape[1] == 0:
        raise ValueError(
            f"Expected at least one time step (axis 1). Received: shape={currents.shape}."
        )
    return currents


def _run(update, xs, state, params, names, remat):
    """Scan ``update(x_t, state, params) -> (y_t, state)`` over the leading axis of ``xs``.

    The carry is ``state + p`` where ``p`` are the parameter tensors ``names`` when ``remat``
    is set (a rematerialised step must receive every tensor it differentiates as an argument,
    not through a closure: TensorFlow's ``recompute_grad`` drops gradients of captured tensors),
    and nothing otherwise. Each step emits ``(y_t,) + carry[1:]``: Keras' TensorFlow scan needs
    the per-step outputs to mirror the carry's structure and shapes; only ``y`` is used.
    """
    n_state = len(state)
    carry = tuple(state)
    if remat:
        dtype = keras.backend.standardize_dtype(xs.dtype)
        carry += tuple(ops.convert_to_tensor(getattr(params, n), dtype=dtype) for n in names)

    def body(carry, x_t):
        p = params._replace(**dict(zip(names, carry[n_state:]))) if remat else params
        y, new_state = update(x_t, carry[:n_state], p)
        rest = tuple(new_state[1:]) + tuple(carry[n_state:])
        return tuple(new_state) + tuple(carry[n_state:]), (y,) + rest

    final, ys = _backend.scan(body, carry, xs, remat=remat)
    return ys[0], tuple(final[:n_state])


def _differentiable(params, names):
    return tuple(n for n in names if getattr(params, n) is not None)


def lif_sequence(currents: Any, params: LIFParams, state: LIFState | None = None,
                 remat: bool = False) -> tuple[Any, LIFState]:
    """Run :func:`lif_step` over the time axis (axis 1) of ``currents`` ``(N, T, ...)``.

    Returns ``(spikes, final_state)`` with ``spikes`` of shape ``(N, T, ...)`` (float, 0/1 for a
    surrogate spike function). The loop is one :func:`spykeflow._backend.scan`, so inside a
    compiled function (``tf.function``, ``jax.jit``) it is a single loop (no Python unrolling)
    and gradients flow through time (BPTT).

    ``remat=True`` recomputes each step in the backward pass instead of storing its activations
    (less memory for BPTT over long sequences, about one extra forward pass of compute); the
    forward values and gradients are the same. With it, only the tensors in ``params``
    (``beta``, ``threshold``, ``alpha``) and the currents/state receive gradients -- not tensors
    a custom ``spike_fn`` captures in a closure (TensorFlow drops those under ``remat``).

    >>> p = LIFParams(beta=0.5, threshold=1.0, reset="none")
    >>> s, st = lif_sequence([[[1.0], [0.0], [0.0]]], p)
    >>> ops.convert_to_numpy(s[0, :, 0]).tolist(), round(float(st.v[0, 0]), 3)
    ([1.0, 0.0, 0.0], 0.25)
    """
    check_in(params.reset, "reset", RESETS)
    remat = check_bool(remat, "remat")
    currents = _check_sequence(currents)
    xs = _time_major(currents)
    if state is None:
        state = initial_state(xs[0])
    spike_fn = _spike_fn(params)
    synaptic = params.alpha is not None

    def update(x_t, st, p):
        s, v, i = _lif_update(x_t, st[0], st[1] if synaptic else None, p, spike_fn)
        return s, ((v, i) if synaptic else (v,))

    init = (state.v, state.i) if synaptic else (state.v,)
    names = _differentiable(params, ("beta", "threshold", "alpha"))
    spikes, final = _run(update, xs, init, params, names, remat)
    # Without a synaptic current, i[t] = x[t]: the final i is the last input current.
    final_i = final[1] if synaptic else xs[-1]
    return _time_major(spikes), LIFState(v=final[0], i=final_i)


def li_sequence(currents: Any, params: LIParams, state: LIState | None = None,
                remat: bool = False) -> tuple[Any, LIState]:
    """Run :func:`li_step` over axis 1 of ``currents`` ``(N, T, ...)``.

    Returns ``(membrane, final_state)`` with ``membrane`` ``(N, T, ...)``. ``remat`` as in
    :func:`lif_sequence`.

    >>> v, _ = li_sequence([[[1.0], [1.0]]], LIParams(beta=0.5))
    >>> ops.convert_to_numpy(v[0, :, 0]).tolist()
    [1.0, 1.5]
    """
    remat = check_bool(remat, "remat")
    currents = _check_sequence(currents)
    xs = _time_major(currents)
    if state is None:
        zeros = ops.zeros_like(xs[0])
        state = LIState(v=zeros, i=zeros)
    synaptic = params.alpha is not None

    def update(x_t, st, p):
        v, i = _li_update(x_t, st[0], st[1] if synaptic else None, p)
        return v, ((v, i) if synaptic else (v,))

    init = (state.v, state.i) if synaptic else (state.v,)
    names = _differentiable(params, ("beta", "alpha"))
    v, final = _run(update, xs, init, params, names, remat)
    final_i = final[1] if synaptic else xs[-1]
    return _time_major(v), LIState(v=final[0], i=final_i)
