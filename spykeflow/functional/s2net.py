"""s2net neuron dynamics: LIF with Denève-style lateral reset and normalised thresholds.

Zimmer, Pellegrini, Singh & Masquelier, "Technical report: supervised training of convolutional
spiking neural networks with PyTorch" (the s2net model), sections 5.1-5.5. For every group of
``C`` neurons that share a receptive field (the ``C`` output channels at one position, or the
``C`` units of a dense layer) and time step ``n``::

    I[n] = W x[n]  (+ V S[n-1] with recurrent connections)              (5.2)
    R[n] = G S[n-1],   G = W~ W~^T  (lateral on)  or  diag(||W~_c||^2)   (5.3)
    U[n] = beta (U[n-1] - R[n]) + (1 - beta) I[n]                        (5.1)
    S[n] = Theta(U[n] / (||W~_c||^2 + eps) - b_c)                        (5.4, 5.5 + practice)

``W~_c`` is the vectorised weight vector (kernel) of channel ``c``, so ``G[p, l] = <W~_p, W~_l>``
and the normalisation ``||W~_c||^2`` is the diagonal of ``G``. With lateral connections a spike of
neuron ``l`` lowers the potential of every neuron ``p`` of its receptive field by ``<W~_p, W~_l>``
(the multi-dimensional send-on-delta reset of section 4.4); without them each neuron only resets
itself, by ``||W~_c||^2``. The reset uses the spikes of the previous step: the spikes of step
``n`` depend on ``U[n]``, so they can only act on the potential from step ``n + 1`` on (section
5.3.2 writes ``S[n-1]``). ``Theta`` is a Heaviside function with a surrogate derivative from
:mod:`spykeflow.functional.surrogate` (the paper uses ``sigmoid`` with scale 10).

Everything is channels-last: currents, potentials and spikes have shape ``(..., C)``; the
time loop :func:`s2net_scan` takes currents ``(N, T, ..., C)`` (time on axis 1, see
:mod:`spykeflow.conventions`).

>>> import numpy as np
>>> from keras import ops
>>> w = np.array([[1.0, -1.0]], "float32")   # one input, an ON and an OFF neuron
>>> p = s2net_params(w, beta=0.5, threshold=[1.0, 1.0])
>>> ops.convert_to_numpy(p.gram).tolist()
[[1.0, -1.0], [-1.0, 1.0]]
>>> spike = surrogate.get("sigmoid", scale=10.0)
>>> current = ops.convert_to_tensor([[4.0, -4.0]])
>>> s, st = s2net_step(current, s2net_initial_state([1], 2), p, spike)
>>> ops.convert_to_numpy(s).tolist(), ops.convert_to_numpy(st.u).tolist()
([[1.0, 0.0]], [[2.0, -2.0]])
"""

from __future__ import annotations

from typing import Any, NamedTuple

import keras
from keras import ops

from .. import _backend
from . import surrogate  # noqa: F401  (re-exported for doctests and callers)

__all__ = [
    "S2NetParams",
    "S2NetState",
    "kernel_gram",
    "s2net_params",
    "s2net_initial_state",
    "s2net_step",
    "s2net_scan",
    "spike_count_loss",
    "clip_gradient",
]

#: The paper's epsilon in ``U / (||W||^2 + eps)``.
EPS = 1e-8


class S2NetParams(NamedTuple):
    """Parameters of one s2net layer's dynamics (backend tensors).

    Attributes
    ----------
    beta : scalar or (C,) tensor
        Membrane decay ``exp(-dt / tau_mem)`` in [0, 1].
    threshold : (C,) tensor
        The trainable relative thresholds ``b`` (>= 0); a neuron fires when
        ``U / (||W||^2 + eps) >= b``.
    gram : (C, C) tensor
        Reset matrix ``G``: ``W~ W~^T`` with lateral connections, its diagonal without.
    norm : (C,) tensor
        ``||W~_c||^2``, the threshold normalisation.
    recurrent : (C, C) tensor or None
        Recurrent weights ``V``: ``I[n] += S[n-1] @ V`` (row = presynaptic channel).
    eps : float
        Added to ``norm`` (the paper uses 1e-8).
    """

    beta: Any
    threshold: Any
    gram: Any
    norm: Any
    recurrent: Any = None
    eps: float = EPS


class S2NetState(NamedTuple):
    """State of the neurons: potentials ``u`` and last spikes ``s``, both ``(..., C)``."""

    u: Any
    s: Any


@ops.custom_gradient
def _gram(flat):
    """``flat^T flat``; its gradient ``flat (g^T + g)`` is computed as TensorFlow's
    ``matmul(flat, flat, transpose_a=True)`` computes it (bit-identical weights on TF)."""

    def grad(*args, upstream=None):
        # TensorFlow and JAX pass the upstream gradient positionally, PyTorch by keyword.
        if upstream is None:
            (upstream,) = args
        return ops.matmul(flat, ops.transpose(upstream)) + ops.matmul(flat, upstream)

    return ops.matmul(ops.transpose(flat), flat), grad


def kernel_gram(kernel: Any) -> Any:
    """Gram matrix ``G[p, l] = <W~_p, W~_l>`` of the output channels of a kernel.

    Parameters
    ----------
    kernel : tensor of shape (..., C)
        Dense weights ``(F_in, C)`` or a convolution kernel ``(k_1, ..., k_d, C_in, C)``; the
        last axis indexes output channels, everything else is flattened into ``W~_c``.

    Returns
    -------
    (C, C) tensor, symmetric; its diagonal is ``||W~_c||^2``.

    >>> import numpy as np
    >>> ops.convert_to_numpy(kernel_gram(np.array([[1.0, 0.0], [2.0, 3.0]], "float32"))).tolist()
    [[5.0, 6.0], [6.0, 9.0]]
    """
    kernel = ops.convert_to_tensor(kernel)
    return _gram(ops.reshape(kernel, (-1, kernel.shape[-1])))


def s2net_params(kernel: Any, beta: Any, threshold: Any, lateral: bool = True,
                 recurrent: Any = None, eps: float = EPS) -> S2NetParams:
    """Build :class:`S2NetParams` from a layer's weights.

    Parameters
    ----------
    kernel : tensor (..., C)
        Feed-forward weights (see :func:`kernel_gram`).
    beta : float or tensor
        Decay in [0, 1] (not clipped here: layers clip with a constraint).
    threshold : (C,) array-like
        Relative thresholds ``b``.
    lateral : bool
        Denève lateral reset between the ``C`` neurons of a receptive field (True) or
        self-reset only (False).
    recurrent : (C, C) tensor, optional
        Recurrent weights.
    """
    gram = kernel_gram(kernel)
    norm = ops.diagonal(gram)
    if not lateral:
        gram = ops.diag(norm)
    dtype = keras.backend.standardize_dtype(gram.dtype)
    return S2NetParams(
        beta=ops.cast(beta, dtype),
        threshold=ops.cast(threshold, dtype),
        gram=gram,
        norm=norm,
        recurrent=recurrent,
        eps=eps,
    )


def s2net_initial_state(shape: Any, channels: int, dtype: Any = "float32") -> S2NetState:
    """Zero potentials and no spikes for neurons of shape ``(*shape, channels)``."""
    shape = tuple(shape) + (channels,)
    zeros = ops.zeros(shape, dtype)
    return S2NetState(u=zeros, s=zeros)


def _step(current, u, s_prev, params, denominator, spike_fn):
    """One step given ``norm + eps`` (computed once per scan, not per step)."""
    reset = ops.tensordot(s_prev, params.gram, axes=[[-1], [0]])
    if params.recurrent is not None:
        current = current + ops.tensordot(s_prev, params.recurrent, axes=[[-1], [0]])
    beta = params.beta
    u = beta * (u - reset) + (1.0 - beta) * current
    return spike_fn(u / denominator - params.threshold), u


def s2net_step(current: Any, state: S2NetState, params: S2NetParams,
               spike_fn: Any) -> tuple[Any, S2NetState]:
    """One time step of the s2net dynamics (equations 5.1-5.5, see the module docstring).

    Parameters
    ----------
    current : tensor (..., C)
        Feed-forward input current ``I[n] = W x[n]`` of this step.
    state : S2NetState
        ``u`` and ``s`` of the previous step, ``(..., C)``.
    params : S2NetParams
    spike_fn : callable
        Heaviside with surrogate gradient, e.g. ``surrogate.get("sigmoid", scale=10)``.

    Returns
    -------
    spikes : tensor (..., C) of 0./1.
    state : S2NetState
    """
    spikes, u = _step(current, state.u, state.s, params, params.norm + params.eps, spike_fn)
    return spikes, S2NetState(u=u, s=spikes)


def s2net_scan(currents: Any, params: S2NetParams, spike_fn: Any,
               initial_state: S2NetState | None = None, return_potentials: bool = False) -> Any:
    """Run :func:`s2net_step` over the time axis of ``currents``.

    The weights are applied to all time steps before this call (one batched matmul or
    convolution); only the neuron dynamics loop over time, inside one
    :func:`spykeflow._backend.scan` (a TensorFlow while loop, ``jax.lax.scan`` or a
    Python loop on PyTorch).

    Parameters
    ----------
    currents : tensor (N, T, ..., C)
        Feed-forward currents, time on axis 1.
    params : S2NetParams
    spike_fn : callable
    initial_state : S2NetState, optional
        Shapes ``(N, ..., C)``; zeros by default.
    return_potentials : bool
        Also return the potentials ``(N, T, ..., C)`` (for plots and tests).

    Returns
    -------
    spikes : (N, T, ..., C) float tensor of 0./1. (and potentials if asked)
    """
    currents = ops.convert_to_tensor(currents)
    rank = len(currents.shape)
    if rank < 3:
        raise ValueError(
            "Expected currents of shape (N, T, ..., C) with rank >= 3. "
            f"Received: shape={tuple(currents.shape)}."
        )
    perm = [1, 0] + list(range(2, rank))
    time_major = ops.transpose(currents, perm)
    if initial_state is None:
        zeros = ops.zeros_like(time_major[0])
        initial_state = S2NetState(u=zeros, s=zeros)
    denominator = params.norm + params.eps

    def step(carry, current):
        u, s = carry
        spikes, u = _step(current, u, s, params, denominator, spike_fn)
        # the outputs have the carry's structure: keras.ops.scan on TensorFlow requires it
        # (unused potentials are dropped by XLA on JAX; on PyTorch they cost one stack)
        return (u, spikes), (spikes, u)

    _, (spikes, potentials) = _backend.scan(step, (initial_state.u, initial_state.s),
                                            time_major)
    spikes = ops.transpose(spikes, perm)
    if return_potentials:
        return spikes, ops.transpose(potentials, perm)
    return spikes


def spike_count_loss(spikes: Any) -> Any:
    """The s2net spike regulariser ``L_r = 1/(2 K N) sum_n sum_k S_k[n]^2`` (section 5.5).

    The mean of ``S^2 / 2`` over batch, time and neurons. Because the forward value is 0 or 1,
    this equals half the firing probability, but its gradient ``S * dS/dU`` vanishes for
    neurons that did not spike, so silent neurons are not pushed further down.

    >>> import numpy as np
    >>> float(spike_count_loss(np.array([[1.0, 0.0, 0.0, 1.0]], "float32")))
    0.25
    """
    spikes = ops.convert_to_tensor(spikes)
    return 0.5 * ops.mean(ops.square(spikes))


def clip_gradient(x: Any, bound: float) -> Any:
    """Identity in the forward pass; clips the incoming gradient to ``[-bound, bound]``.

    Applied once to a variable's value, this clips that variable's total gradient element-wise
    (what ``clipvalue`` does in a Keras optimizer), independently of the training loop and the
    backend: the gradient of ``sum(100 * clip_gradient(v, 5))`` with respect to ``v`` is 5
    everywhere, not 100.

    >>> v = ops.convert_to_tensor([1.0, 2.0])
    >>> ops.convert_to_numpy(clip_gradient(v, 5.0)).tolist()
    [1.0, 2.0]
    """
    bound = float(bound)

    @ops.custom_gradient
    def _clip(v):
        def grad(*args, upstream=None):
            if upstream is None:
                (upstream,) = args
            return ops.clip(upstream, -bound, bound)

        return ops.copy(v), grad

    return _clip(ops.convert_to_tensor(x))
