"""Leaky integrate-and-fire (LIF) dynamics as pure step functions (TensorFlow).

Every neuron model here is a function ``step(current, state, params) -> (output, state)`` over
small typed :class:`~typing.NamedTuple` parameters and state, plus a ``*_sequence`` function that
runs the step over the time axis of ``(N, T, ...)`` currents with one :func:`tensorflow.scan`
(graph-friendly, differentiable, XLA-compilable). Layers in :mod:`spykeflow.layers.lif` compute
the synaptic currents of all time steps with one big matmul/conv and then call these functions.

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
    >>> x = tf.constant([[[0.6], [0.6], [0.6], [0.6]]])       # (N=1, T=4, F=1)
    >>> s, state = lif_sequence(x, p)
    >>> s[0, :, 0].numpy().tolist()
    [0.0, 1.0, 0.0, 1.0]
    >>> round(float(state.v[0, 0]), 4)
    0.4
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import tensorflow as tf

from .._validation import check_in
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


def initial_state(current_like: Any) -> LIFState:
    """Zero :class:`LIFState` shaped like one time step of ``current_like`` (e.g. ``x[:, 0]``).

    The synaptic current ``i`` is also zero (it is unused when ``alpha`` is None)."""
    zeros = tf.zeros_like(current_like)
    return LIFState(v=zeros, i=zeros)


def lif_step(current: Any, state: LIFState, params: LIFParams) -> tuple[tf.Tensor, LIFState]:
    """One LIF time step. Returns ``(spikes, new_state)``; see the module docstring.

    Parameters
    ----------
    current : tensor ``(N, ...)``
        Input current ``x[t]`` (already weighted).
    state : LIFState
        ``v`` and ``i`` of the previous step, same shape as ``current``.
    params : LIFParams

    >>> p = LIFParams(beta=0.5, threshold=1.0, reset="zero")
    >>> s, st = lif_step(tf.constant([0.8]), LIFState(tf.constant([0.6]), tf.constant([0.0])), p)
    >>> float(s[0]), float(st.v[0])      # u = 0.5*0.6 + 0.8 = 1.1 >= 1 -> spike, reset to 0
    (1.0, 0.0)
    """
    check_in(params.reset, "reset", RESETS)
    if params.alpha is None:
        i_new = current
    else:
        i_new = params.alpha * state.i + current
    u = params.beta * state.v + i_new
    theta = params.threshold
    spike_fn = params.spike_fn if params.spike_fn is not None else _default_spike()
    s = spike_fn(u - theta)
    r = tf.stop_gradient(s) if params.detach_reset else s
    if params.reset == "subtract":
        v = u - r * theta
    elif params.reset == "zero":
        v = u * (1.0 - r)
    else:
        v = u
    if params.floor is not None:
        v = tf.maximum(v, params.floor * theta)
    return s, LIFState(v=v, i=i_new)


def if_step(current: Any, state: LIFState, params: LIFParams) -> tuple[tf.Tensor, LIFState]:
    """Integrate-and-fire step: :func:`lif_step` with ``beta = 1`` (no leak)."""
    return lif_step(current, state, params._replace(beta=1.0))


def li_step(current: Any, state: LIState, params: LIParams) -> tuple[tf.Tensor, LIState]:
    """One leaky-integrator step (a non-spiking readout neuron). Returns ``(v, new_state)``::

        i[t] = alpha * i[t-1] + x[t]   (i = x when alpha is None);   v[t] = beta * v[t-1] + i[t]

    >>> v, st = li_step(tf.constant([1.0]), LIState(tf.constant([2.0]), tf.constant([0.0])),
    ...                 LIParams(beta=0.5))
    >>> float(v[0])
    2.0
    """
    i_new = current if params.alpha is None else params.alpha * state.i + current
    v = params.beta * state.v + i_new
    return v, LIState(v=v, i=i_new)


def _time_major(x):
    perm = [1, 0] + list(range(2, x.shape.rank))
    return tf.transpose(x, perm)


def _check_sequence(currents):
    currents = tf.convert_to_tensor(currents)
    if not currents.dtype.is_floating:
        currents = tf.cast(currents, tf.float32)
    rank = currents.shape.rank
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


def lif_sequence(currents: Any, params: LIFParams,
                 state: LIFState | None = None) -> tuple[tf.Tensor, LIFState]:
    """Run :func:`lif_step` over the time axis (axis 1) of ``currents`` ``(N, T, ...)``.

    Returns ``(spikes, final_state)`` with ``spikes`` of shape ``(N, T, ...)`` (float, 0/1 for a
    surrogate spike function). The loop is one :func:`tf.scan`, so inside ``tf.function`` it is a
    single while loop (no Python unrolling) and gradients flow through time (BPTT).

    >>> p = LIFParams(beta=0.5, threshold=1.0, reset="none")
    >>> s, st = lif_sequence(tf.constant([[[1.0], [0.0], [0.0]]]), p)
    >>> s[0, :, 0].numpy().tolist(), round(float(st.v[0, 0]), 3)
    ([1.0, 0.0, 0.0], 0.25)
    """
    check_in(params.reset, "reset", RESETS)
    currents = _check_sequence(currents)
    xs = _time_major(currents)
    if state is None:
        state = initial_state(xs[0])

    def body(carry, x_t):
        st = carry[1]
        s, new_state = lif_step(x_t, st, params)
        return (s, new_state)

    init = (tf.zeros_like(xs[0]), state)
    spikes, states = tf.scan(body, xs, initializer=init)
    final = LIFState(v=states.v[-1], i=states.i[-1])
    return _time_major(spikes), final


def li_sequence(currents: Any, params: LIParams,
                state: LIState | None = None) -> tuple[tf.Tensor, LIState]:
    """Run :func:`li_step` over axis 1 of ``currents`` ``(N, T, ...)``.

    Returns ``(membrane, final_state)`` with ``membrane`` ``(N, T, ...)``.

    >>> v, _ = li_sequence(tf.constant([[[1.0], [1.0]]]), LIParams(beta=0.5))
    >>> v[0, :, 0].numpy().tolist()
    [1.0, 1.5]
    """
    currents = _check_sequence(currents)
    xs = _time_major(currents)
    if state is None:
        zeros = tf.zeros_like(xs[0])
        state = LIState(v=zeros, i=zeros)

    def body(carry, x_t):
        return li_step(x_t, carry, params)[1]

    states = tf.scan(body, xs, initializer=state)
    final = LIState(v=states.v[-1], i=states.i[-1])
    return _time_major(states.v), final
