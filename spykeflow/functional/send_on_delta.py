"""Send-on-delta (SoD) encoding of real-valued time series into spikes (Zimmer et al., 4.2-4.4).

1-D send-on-delta (Miskowicz 2006; Zimmer et al. 4.2-4.3)
    Each feature ``f`` keeps a reference value ``r``. At every time step, if
    ``x[t] - r >= delta`` the ON neuron fires and ``r += delta``; if ``x[t] - r <= -delta`` the
    OFF neuron fires and ``r -= delta``. This is the pair of non-leaky IF neurons of Zimmer et
    al. 4.3 (input ``w x'``, ``w_ON = +delta``, ``w_OFF = -delta``, thresholds ``w^2``, lateral
    weight ``-w_ON w_OFF``): a spike of either neuron resets both, i.e. moves the common
    reference.

Multi-dimensional send-on-delta (Zimmer et al. 4.4)
    ``K`` neurons with preferred directions ``w_k`` (rows of ``directions``, shape ``(K, F)``)
    share one reference vector ``r``. Neuron ``k``'s potential is ``<w_k, x[t] - r>``, its
    threshold ``||w_k||^2``; when it fires, ``r += w_k`` (the lateral connection
    ``-<w_j, w_k>`` resets every neuron ``j``). 1-D SoD is the special case
    ``directions = [+delta e_f, -delta e_f]``.

Discrete time: one event per neuron per time step (spikes are boolean). Within a step, neurons
above threshold fire one at a time, the most supra-threshold first (``U_k / ||w_k||^2`` largest),
each firing updating the reference before the next choice -- as in the continuous-time network,
where two neurons never cross at the same instant. Every firing lowers ``||x - r||^2`` by at
least ``||w_k||^2``.

Guarantee (1-D): the reconstruction ``r[t]`` (:func:`reconstruct_send_on_delta`) satisfies
``|x[t] - r[t]| < delta`` at every step as long as the signal moves by at most ``delta`` per
step (``|x[t] - x[t-1]| <= delta``, with ``x[-1] = initial``). Faster changes are followed at one
``delta`` per step (a slew-rate limit); choose a larger ``delta`` or resample.

Layouts: inputs ``(N, T, F)``, 1-D output ``(N, T, F, 2)`` bool with channel 0 = ON, 1 = OFF
(:data:`spykeflow.conventions.ON`/``OFF``); multi-dimensional output ``(N, T, K)`` bool.

>>> x = np.array([[[0.0], [0.6], [1.2], [1.1], [0.1]]])       # (N=1, T=5, F=1)
>>> s = send_on_delta(x, 0.5)
>>> s[0, :, 0].astype(int).tolist()                           # [ON, OFF] per step
[[0, 0], [1, 0], [1, 0], [0, 0], [0, 1]]
>>> reconstruct_send_on_delta(s, 0.5)[0, :, 0].tolist()
[0.0, 0.5, 1.0, 1.0, 0.5]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from spykeflow._validation import check_finite_array, check_float

__all__ = [
    "send_on_delta",
    "reconstruct_send_on_delta",
    "multi_send_on_delta",
    "reconstruct_multi_send_on_delta",
    "check_series",
    "check_delta",
    "check_directions",
    "check_initial",
]


def check_series(x: Any, name: str = "x") -> np.ndarray:
    """``x`` as a finite float64 array ``(N, T, F)`` with at least one sample and step."""
    arr = check_finite_array(x, name, min_ndim=0, dtype=np.float64)
    if arr.ndim != 3:
        raise ValueError(
            f"Expected {name} of shape (N, T, F). Received: shape={arr.shape}. "
            "Add axes, e.g. x[None, :, None] for one series of one feature."
        )
    if arr.shape[1] == 0:
        raise ValueError(f"Expected at least one sample and time step in {name}. "
                         f"Received: shape={arr.shape}.")
    return arr


def check_delta(delta: Any, n_features: int | None = None) -> np.ndarray:
    """``delta`` as float64 ``(n_features,)`` (or its own shape if ``n_features`` is None).

    A scalar or one value per feature, each finite and ``> 0``.
    """
    d = np.asarray(delta)
    if d.ndim > 1 or (d.ndim == 1 and n_features is not None and d.shape[0] != n_features):
        raise ValueError(
            f"Expected delta as a scalar or one value per feature ({n_features},). "
            f"Received: shape={d.shape}."
        )
    if d.dtype == object or (d.ndim == 1 and d.shape[0] == 0):
        raise TypeError(f"Expected delta to be a number or an array of numbers. "
                        f"Received: delta={delta!r}.")
    for value in d.ravel().tolist():
        check_float(value, "delta", low=0, low_open=True)
    d = d.astype(np.float64)
    return d if n_features is None else np.broadcast_to(d, (n_features,))


def check_initial(initial: Any, n: int, f: int) -> np.ndarray:
    """The starting reference as a float64 ``(n, f)`` array (zeros for None)."""
    if initial is None:
        return np.zeros((n, f))
    init = check_finite_array(initial, "initial", min_ndim=0, dtype=np.float64)
    try:
        return np.broadcast_to(init, (n, f)).copy()
    except ValueError:
        raise ValueError(
            f"Expected initial broadcastable to (N, F) = ({n}, {f}). Received: shape={init.shape}."
        ) from None


def send_on_delta(x: Any, delta: Any, initial: Any = None) -> np.ndarray:
    """1-D send-on-delta: real-valued ``(N, T, F)`` -> ON/OFF spikes ``(N, T, F, 2)`` bool.

    Parameters
    ----------
    x : array (N, T, F)
        Time series (time on axis 1).
    delta : float or array (F,)
        Threshold ``delta > 0`` (per feature if an array).
    initial : array broadcastable to (N, F), optional
        Starting reference value (default 0: the first events also encode the level).
    """
    x = check_series(x)
    n, t, f = x.shape
    d = check_delta(delta, f)
    ref = check_initial(initial, n, f)
    out = np.zeros((n, t, f, 2), dtype=bool)
    for step in range(t):
        diff = x[:, step] - ref
        on = diff >= d
        off = diff <= -d
        ref = ref + d * (on.astype(np.float64) - off)
        out[:, step, :, 0] = on
        out[:, step, :, 1] = off
    return out


def reconstruct_send_on_delta(spikes: Any, delta: Any, initial: Any = None) -> np.ndarray:
    """Reference trajectory ``(N, T, F)`` from ON/OFF spikes ``(N, T, F, 2)``.

    ``r[t] = initial + delta * sum_{s <= t} (ON[s] - OFF[s])``.
    """
    s = np.asarray(spikes)
    if s.ndim != 4 or s.shape[-1] != 2:
        raise ValueError(
            f"Expected spikes of shape (N, T, F, 2) (ON, OFF). Received: shape={s.shape}."
        )
    n, _, f, _ = s.shape
    d = check_delta(delta, f)
    init = check_initial(initial, n, f)
    steps = s[..., 0].astype(np.float64) - s[..., 1]
    return init[:, None, :] + d * np.cumsum(steps, axis=1)


def check_directions(directions: Any, n_features: int | None = None) -> tuple:
    """``(directions, squared norms)`` after checking the ``(K, F)`` shape and the rows.

    Every row must be finite and non-zero; ``F`` must equal ``n_features`` when given.
    """
    shape = np.shape(directions)
    if len(shape) != 2 or shape[0] == 0 or (n_features is not None and shape[1] != n_features):
        raise ValueError(
            f"Expected directions of shape (K, F) with F = {n_features}. Received: shape={shape}."
        )
    w = check_finite_array(directions, "directions", dtype=np.float64)
    norms = np.sum(w * w, axis=1)
    if not (norms > 0).all():
        raise ValueError("Expected finite, non-zero direction vectors (rows of directions).")
    return w, norms


def multi_send_on_delta(x: Any, directions: Any, initial: Any = None) -> np.ndarray:
    """Multi-dimensional send-on-delta: ``(N, T, F)`` -> spikes ``(N, T, K)`` bool.

    Parameters
    ----------
    x : array (N, T, F)
    directions : array (K, F)
        Preferred directions ``w_k`` (non-zero). The sampling step along ``w_k`` is ``w_k``
        itself: neuron ``k`` fires when the projection of ``x - r`` on ``w_k / ||w_k||``
        reaches ``||w_k||``.
    initial : array broadcastable to (N, F), optional
        Starting reference vector (default 0).

    >>> w = np.array([[1.0, 1.0], [-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0]])
    >>> x = np.array([[[0.5, 0.5], [2.5, 1.5]]])
    >>> multi_send_on_delta(x, w)[0].astype(int).tolist()
    [[0, 0, 0, 0], [1, 0, 0, 0]]
    >>> reconstruct_multi_send_on_delta(multi_send_on_delta(x, w), w)[0].tolist()
    [[0.0, 0.0], [1.0, 1.0]]
    """
    x = check_series(x)
    n, t, f = x.shape
    w, norms = check_directions(directions, f)
    k = w.shape[0]
    ref = check_initial(initial, n, f)
    out = np.zeros((n, t, k), dtype=bool)
    rows = np.arange(n)
    for step in range(t):
        fired = np.zeros((n, k), dtype=bool)
        for _ in range(k):
            u = (x[:, step] - ref) @ w.T  # (N, K) potentials
            ratio = np.where(fired, -np.inf, u / norms)
            best = np.argmax(ratio, axis=1)
            go = ratio[rows, best] >= 1.0
            if not go.any():
                break
            fired[rows[go], best[go]] = True
            ref[go] += w[best[go]]
        out[:, step] = fired
    return out


def reconstruct_multi_send_on_delta(spikes: Any, directions: Any,
                                    initial: Any = None) -> np.ndarray:
    """Reference trajectory ``(N, T, F)``: ``r[t] = initial + sum_{s <= t} S[s] @ directions``."""
    s = np.asarray(spikes)
    w = np.asarray(directions, dtype=np.float64)
    if s.ndim != 3 or w.ndim != 2 or s.shape[-1] != w.shape[0]:
        raise ValueError(
            "Expected spikes (N, T, K) and directions (K, F) with the same K. "
            f"Received: spikes.shape={s.shape}, directions.shape={w.shape}."
        )
    init = check_initial(initial, s.shape[0], w.shape[1])
    return init[:, None, :] + np.cumsum(s.astype(np.float64), axis=1) @ w
