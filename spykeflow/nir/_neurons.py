"""Discrete-time updates of NIR's neuron primitives (NumPy, channels first).

NIR states its neurons in continuous time; a simulator picks a step ``dt`` and a method. With
``a = dt / tau`` and the input ``x`` of the step held constant over it, every membrane update
here is ``v' = A v + B x + C`` (plus the synaptic current of the Cuba nodes):

=================  ==================  ==================  =====================================
method             ``A``               ``B``               used by
=================  ==================  ==================  =====================================
``"euler"``        ``1 - a``           ``a r``             forward Euler: Norse, snnTorch, this
                                                           package's export (the default)
``"exponential"``  ``exp(-a)``         ``a r``             exponential decay with a forward
                                                           input term: Rockpool, Sinabs
``"exact"``        ``exp(-a)``         ``(1 - A) r``       the exact solution of the ODE for an
                                                           input held over the step
=================  ==================  ==================  =====================================

``C = (1 - A) v_leak`` (``a v_leak`` for Euler). ``I`` and ``IF`` integrate ``v' = v + dt r x``
under every method. The Cuba nodes first update the synaptic current,
``i' = A_s i + B_s w_in x`` (same table with ``tau_syn``), then the membrane with ``i'`` as its
input (Euler and exponential; so an input reaches ``v`` in the step it arrives, as in snnTorch
and SpykeFlow's LIF layers, where Norse uses the previous step's current); ``"exact"``
integrates both ODEs exactly over the step.

Spiking nodes emit ``v' > v_threshold`` (``>=`` where a SpykeFlow export says so) and then
reset: ``"v_reset"`` sets ``v' = v_reset``, ``"subtract"`` sets
``v' = v' - (v_threshold - v_reset)``. With ``"exact"``, ``IF`` and ``LIF`` reset at the
crossing time inside the step and integrate the rest of the step from ``v_reset`` (both resets
coincide there); ``CubaLIF`` resets at the end of the step. The recorded ``v`` is the value after
the reset, as every framework records it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["METHODS", "RESETS", "Neuron"]

#: Discretisation methods of :func:`spykeflow.nir.load`.
METHODS = ("euler", "exponential", "exact")
#: Reset rules applied after a spike.
RESETS = ("v_reset", "subtract")

_SPIKING = ("IF", "LIF", "CubaLIF")
_CUBA = ("CubaLI", "CubaLIF")


class Neuron:
    """One NIR neuron node (``I``, ``LI``, ``IF``, ``LIF``, ``CubaLI``, ``CubaLIF``) of a given
    shape, discretised with ``dt`` and ``method``.

    Parameters
    ----------
    kind : str
        The NIR node type.
    params : dict
        Its parameters, already broadcast to ``shape`` (float64).
    dt : float
    method : {"euler", "exponential", "exact"}
    reset : {"v_reset", "subtract"}
        What a spike does to the membrane (spiking kinds only).
    inclusive : bool
        Spike on ``v >= v_threshold`` instead of ``v > v_threshold``.
    v_min : array or None
        Lower bound of the membrane after each step (SpykeFlow's ``floor``).
    v_init : array or None
        Initial membrane (SpykeFlow's QCFS neurons start at ``phi * theta``); 0 otherwise.
    dtype : numpy dtype of the simulation

    >>> p = {"r": np.ones(1), "v_threshold": np.ones(1), "v_reset": np.zeros(1)}
    >>> n = Neuron("IF", p, dt=0.5, method="euler")
    >>> state, out = n.init_state(1), []
    >>> for _ in range(3):                       # v = 0.5, 1.0, 1.5: spikes on v > 1
    ...     s, state = n.step(np.array([[1.0]]), state)
    ...     out.append(float(s[0, 0]))
    >>> out
    [0.0, 0.0, 1.0]
    """

    def __init__(self, kind: str, params: dict[str, np.ndarray], dt: float, method: str,
                 reset: str = "v_reset", inclusive: bool = False, v_min: Any = None,
                 v_init: Any = None, dtype: Any = np.float32) -> None:
        self.kind = kind
        self.spiking = kind in _SPIKING
        self.cuba = kind in _CUBA
        self.method = method
        self.reset = reset
        self.inclusive = bool(inclusive)
        self.dtype = np.dtype(dtype)
        self.dt = float(dt)
        p = params
        self.shape = np.shape(p["r"])
        self.tau_m: Any = None
        g_old: Any = 0.0
        g_new: Any = 0.0
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            if kind in ("I", "IF"):
                a_m, b, c = np.ones(self.shape), self.dt * p["r"], np.zeros(self.shape)
            else:
                tau = p["tau_mem"] if self.cuba else p["tau"]
                a_m, b, c = _coefficients(self.dt / tau, method)
                b, c = b * p["r"], c * p["v_leak"]
                self.tau_m = tau
            self.r = p["r"]
            self.v_leak = p.get("v_leak", np.zeros(self.shape))
            if self.cuba:
                tau_s = p["tau_syn"]
                a_s, b_s, _ = _coefficients(self.dt / tau_s, method)
                self.a_s = self._cast(a_s)
                self.b_s = self._cast(b_s * p["w_in"])
                if method == "exact":
                    k = _exact_cross_term(self.dt, tau_s, self.tau_m)
                    g_old = p["r"] * k
                    b = p["r"] * p["w_in"] * ((1.0 - a_m) - k)
                else:
                    g_new, b = b, np.zeros(self.shape)
        self.a_m, self.b, self.c = self._cast(a_m), self._cast(b), self._cast(c)
        self.g_old, self.g_new = self._cast(g_old), self._cast(g_new)
        if self.spiking:
            self.threshold = self._cast(p["v_threshold"])
            self.v_reset = self._cast(p["v_reset"])
            self.jump = self._cast(p["v_threshold"] - p["v_reset"])
        self.v_min = None if v_min is None else self._cast(v_min)
        self.v_init = None if v_init is None else self._cast(v_init)

    def _cast(self, value: Any) -> np.ndarray:
        return np.broadcast_to(np.asarray(value, np.float64), self.shape).astype(self.dtype)

    def init_state(self, n: int) -> dict[str, np.ndarray]:
        """Zero state (or ``v_init``) for a batch of ``n``."""
        v = np.zeros((n,) + self.shape, self.dtype)
        if self.v_init is not None:
            v += self.v_init
        state = {"v": v}
        if self.cuba:
            state["i"] = np.zeros((n,) + self.shape, self.dtype)
        return state

    def step(self, x: np.ndarray, state: dict[str, np.ndarray]) -> tuple[np.ndarray, dict]:
        """One step: returns ``(output, new_state)``; the output is the spikes (0/1) of the
        spiking kinds and the membrane ``v`` of the others."""
        v0 = state["v"]
        with np.errstate(invalid="ignore", over="ignore"):
            v = self.a_m * v0 + self.b * x + self.c
            new = {}
            if self.cuba:
                i0 = state["i"]
                i = self.a_s * i0 + self.b_s * x
                v = v + self.g_new * i + self.g_old * i0
                new["i"] = i
            if not self.spiking:
                new["v"] = self._floor(v)
                return new["v"], new
            spikes = v >= self.threshold if self.inclusive else v > self.threshold
            if self.method == "exact" and self.kind in ("IF", "LIF"):
                reset = self._exact_reset(v0, x)
            elif self.reset == "subtract":
                reset = v - self.jump
            else:
                reset = self.v_reset
            v = np.where(spikes, reset, v)
        new["v"] = self._floor(v)
        return spikes.astype(self.dtype), new

    def _floor(self, v: np.ndarray) -> np.ndarray:
        return v if self.v_min is None else np.maximum(v, self.v_min)

    def _exact_reset(self, v0: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Membrane at the end of the step after a reset at the crossing time inside it
        (``IF``: linear rise; ``LIF``: exponential approach to ``v_inf = v_leak + r x``)."""
        dt, theta = self.dt, self.threshold.astype(np.float64)
        v0, x = v0.astype(np.float64), x.astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            if self.kind == "IF":
                rate = self.r * x
                t_cross = np.clip(np.where(v0 >= theta, 0.0, (theta - v0) / rate), 0.0, dt)
                out = self.v_reset + rate * (dt - t_cross)
            else:
                tau = self.tau_m
                v_inf = self.v_leak + self.r * x
                t_cross = tau * np.log((v0 - v_inf) / (theta - v_inf))
                t_cross = np.clip(np.where(v0 >= theta, 0.0, t_cross), 0.0, dt)
                out = v_inf + (self.v_reset - v_inf) * np.exp(-(dt - t_cross) / tau)
        return out.astype(self.dtype)


def _coefficients(a: np.ndarray, method: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(A, B / r, C / v_leak)`` of the table in the module docstring for ``a = dt / tau``."""
    if method == "euler":
        return 1.0 - a, a, a
    decay = np.exp(-a)
    if method == "exponential":
        return decay, a, 1.0 - decay
    return decay, 1.0 - decay, 1.0 - decay


def _exact_cross_term(dt: float, tau_s: np.ndarray, tau_m: np.ndarray) -> np.ndarray:
    """``K`` in ``v(dt) = ... + r (i0 - i_inf) K``: the share of an initial synaptic current that
    reaches the membrane over one step, ``tau_s / (tau_s - tau_m) (e^{-dt/tau_s} -
    e^{-dt/tau_m})`` (``dt / tau e^{-dt/tau}`` when the constants are equal)."""
    e_s, e_m = np.exp(-dt / tau_s), np.exp(-dt / tau_m)
    close = np.isclose(tau_s, tau_m, rtol=1e-9, atol=0.0)
    diff = np.where(close, 1.0, tau_s - tau_m)
    general = tau_s / diff * (e_s - e_m)
    return np.where(close, dt / tau_m * e_m, general)
