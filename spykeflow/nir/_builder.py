"""Building NIR graphs: a small node/edge accumulator and the discrete -> continuous mapping of
SpykeFlow's neurons.

SpykeFlow's neurons are discrete: per step ``i[t] = alpha i[t-1] + x[t]`` (optional synaptic
current), ``u[t] = beta v[t-1] + i[t]``, spike ``u >= theta``, then reset. NIR's are ODEs. Under
forward Euler with step ``dt`` (``v' = v + dt/tau (v_leak - v + r I)``) the two agree exactly
for::

    LIF / LI:   tau = dt / (1 - beta),        r = 1 / (1 - beta),   v_leak = 0
    IF / I:     (beta = 1)                    r = 1 / dt
    CubaLIF:    tau_syn = dt / (1 - alpha),   w_in = 1 / (1 - alpha),
                tau_mem = dt / (1 - beta),    r = 1 / (1 - beta)

(``dt / tau = 1 - beta`` is the leak per step and ``dt/tau * r = 1`` the input gain). A
synaptic decay ``alpha = 1`` or a membrane decay ``beta = 1`` next to a synaptic current has
no CubaLIF form; the current is then a separate ``LI`` (or ``I``) node feeding the membrane
node, which is the same system. Reset to zero is NIR's ``v_reset = 0``; reset by subtraction
and reset "none" are described in :mod:`spykeflow.nir.conventions` (``none``: a non-spiking
``LI``/``I`` node followed by a ``Threshold`` node, which is plain NIR).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .conventions import META_INCLUSIVE, META_RESET, META_V_MIN

__all__ = ["GraphBuilder", "full", "neuron_nodes"]


def full(value: Any, shape: tuple[int, ...], dtype: Any = np.float32) -> np.ndarray:
    """``value`` (scalar, or one value per channel = axis 0 of the NIR shape) as an array of
    ``shape``."""
    arr = np.asarray(value, np.float64)
    if arr.ndim == 1 and arr.size > 1 and len(shape) > 1:
        arr = arr.reshape((-1,) + (1,) * (len(shape) - 1))
    return np.ascontiguousarray(np.broadcast_to(arr, shape), dtype=dtype)


class GraphBuilder:
    """Nodes and edges of a graph under construction (names must be unique)."""

    def __init__(self) -> None:
        self.nodes: dict[str, Any] = {}
        self.edges: list[tuple[str, str]] = []

    def add(self, name: str, node: Any, *sources: str) -> str:
        """Add ``node`` fed by ``sources``; returns its name (``input``/``output`` are kept
        for the graph's Input/Output nodes: a layer of that name becomes ``<name>_layer``)."""
        if name in ("input", "output") and type(node).__name__ not in ("Input", "Output"):
            name = f"{name}_layer"
        if name in self.nodes:
            raise ValueError(f"Duplicate NIR node name {name!r}.")
        self.nodes[name] = node
        for src in sources:
            self.edges.append((src, name))
        return name

    def connect(self, src: str, dst: str) -> None:
        self.edges.append((src, dst))

    def graph(self, metadata: dict[str, Any]) -> Any:
        """The ``nir.NIRGraph`` (types inferred and checked by ``nir``)."""
        import nir

        return nir.NIRGraph(nodes=self.nodes, edges=self.edges, metadata=metadata,
                            type_check=True)


def _all_or_none(values: np.ndarray, target: float, what: str, layer: str) -> bool:
    hit = np.isclose(values, target, rtol=0.0, atol=0.0)
    if hit.any() and not hit.all():
        raise ValueError(
            f"Layer {layer!r}: {what} equals {target} for some channels but not all; NIR has no "
            f"single node for that mix. Received: {what} in [{values.min()}, {values.max()}].")
    return bool(hit.all())


def _decay_nodes(b: GraphBuilder, name: str, source: str, decay: np.ndarray, shape, dt: float,
                 meta: dict) -> str:
    """A non-spiking integrator with per-step decay ``decay`` and unit input gain:
    ``LI`` (decay < 1) or ``I`` (decay = 1)."""
    import nir

    if _all_or_none(decay, 1.0, "the decay", name):
        return b.add(name, nir.I(r=full(1.0 / dt, shape), metadata=meta), source)
    d = full(decay, shape, np.float64)
    return b.add(name, nir.LI(tau=full(dt / (1.0 - d), shape), r=full(1.0 / (1.0 - d), shape),
                              v_leak=full(0.0, shape), metadata=meta), source)


def neuron_nodes(b: GraphBuilder, name: str, source: str, shape: tuple[int, ...], *, dt: float,
                 beta: Any, threshold: Any = None, reset: str = "zero", alpha: Any = None,
                 floor: float | None = None, spiking: bool = True) -> str:
    """Add the NIR node(s) of a population of SpykeFlow LIF neurons fed by ``source``; returns
    the name of the node whose output is the population's spikes (or membrane, when not
    ``spiking``).

    ``beta``, ``threshold``, ``alpha``: scalars or one value per channel (axis 0 of ``shape``);
    ``reset``: ``"zero"``, ``"subtract"`` or ``"none"``; ``floor``: the membrane's lower bound
    as a multiple of the threshold (None: unbounded).
    """
    import nir

    beta_a = full(beta, shape, np.float64)
    theta = None if threshold is None else full(threshold, shape, np.float64)
    mem_meta: dict[str, Any] = {}
    if floor is not None and theta is not None:
        mem_meta[META_V_MIN] = full(floor * theta, shape)
    synaptic = alpha is not None
    alpha_a: Any = full(alpha, shape, np.float64) if synaptic else None
    beta_one = _all_or_none(beta_a, 1.0, "beta", name)
    alpha_one = synaptic and _all_or_none(alpha_a, 1.0, "alpha", name)
    if synaptic and (alpha_one or beta_one):
        # no CubaLIF form: the synaptic current is its own integrator node
        source = _decay_nodes(b, f"{name}_syn", source, alpha_a, shape, dt, {})
        synaptic = False
    fires = spiking and reset != "none"
    if not fires:
        if synaptic:
            node = nir.CubaLI(tau_syn=full(dt / (1 - alpha_a), shape),
                              tau_mem=full(dt / (1 - beta_a), shape),
                              r=full(1 / (1 - beta_a), shape), v_leak=full(0.0, shape),
                              w_in=full(1 / (1 - alpha_a), shape), metadata=mem_meta)
            membrane = b.add(f"{name}_mem" if spiking else name, node, source)
        else:
            membrane = _decay_nodes(b, f"{name}_mem" if spiking else name, source, beta_a, shape,
                                    dt, mem_meta)
        if not spiking:
            return membrane
        return b.add(name, nir.Threshold(threshold=full(theta, shape),
                                         metadata={META_INCLUSIVE: ">="}), membrane)
    meta = {**mem_meta, META_RESET: reset, META_INCLUSIVE: ">="}
    zero = full(0.0, shape)
    if synaptic:
        node = nir.CubaLIF(tau_syn=full(dt / (1 - alpha_a), shape),
                           tau_mem=full(dt / (1 - beta_a), shape),
                           r=full(1 / (1 - beta_a), shape), v_leak=zero,
                           v_threshold=full(theta, shape), v_reset=zero,
                           w_in=full(1 / (1 - alpha_a), shape), metadata=meta)
    elif beta_one:
        node = nir.IF(r=full(1.0 / dt, shape), v_threshold=full(theta, shape), v_reset=zero,
                      metadata=meta)
    else:
        node = nir.LIF(tau=full(dt / (1 - beta_a), shape), r=full(1 / (1 - beta_a), shape),
                       v_leak=zero, v_threshold=full(theta, shape), v_reset=zero,
                       metadata=meta)
    return b.add(name, node, source)
