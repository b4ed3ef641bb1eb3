"""The NumPy simulator of a NIR graph: :func:`load` and :class:`Simulator`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._validation import check_float, check_in, check_int
from . import _graph, _ops
from ._neurons import METHODS, Neuron
from .conventions import (
    META_DT,
    META_INCLUSIVE,
    META_RESET,
    META_V_INIT,
    META_V_MIN,
)

__all__ = ["SUPPORTED_NODES", "DATA_FORMATS", "RESET_RULES", "Simulator", "RunResult", "load"]

#: NIR node types :func:`load` runs (``NIRGraph``: nested graphs, inlined).
SUPPORTED_NODES = ("Input", "Output", "Identity", "Affine", "Linear", "Scale", "Threshold",
                   "Flatten", "Conv1d", "Conv2d", "SumPool2d", "AvgPool2d", "Delay", "I", "IF",
                   "LI", "LIF", "CubaLI", "CubaLIF", "NIRGraph")
#: Layouts of the arrays :meth:`Simulator.run` takes and returns.
DATA_FORMATS = ("channels_last", "channels_first")
#: Values of ``reset``.
RESET_RULES = ("auto", "v_reset", "subtract")

_NEURONS = ("I", "IF", "LI", "LIF", "CubaLI", "CubaLIF")
_NEURON_PARAMS = {
    "I": ("r",),
    "IF": ("r", "v_threshold", "v_reset"),
    "LI": ("tau", "r", "v_leak"),
    "LIF": ("tau", "r", "v_leak", "v_threshold", "v_reset"),
    "CubaLI": ("tau_syn", "tau_mem", "r", "v_leak", "w_in"),
    "CubaLIF": ("tau_syn", "tau_mem", "r", "v_leak", "v_threshold", "v_reset", "w_in"),
}


@dataclass(frozen=True)
class RunResult:
    """What :meth:`Simulator.run` returns.

    Attributes
    ----------
    outputs : dict
        Output node name -> array ``(N, T, *shape)`` (in the simulator's ``data_format``).
    values : dict
        With ``record=True``: every node's output ``(N, T, *shape)``; empty otherwise.
    states : dict
        With ``record=True``: node name -> ``{"v": ..., "i": ...}`` state arrays
        ``(N, T, *shape)`` of every neuron node, after the step's reset; empty otherwise.
    """

    outputs: dict[str, np.ndarray]
    values: dict[str, np.ndarray] = field(default_factory=dict)
    states: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)

    @property
    def output(self) -> np.ndarray:
        """The array of the graph's only Output node."""
        if len(self.outputs) != 1:
            raise ValueError(f"Expected one Output node for .output. Received: "
                             f"{sorted(self.outputs)}; use .outputs[name].")
        return next(iter(self.outputs.values()))


# ------------------------------------------------------------------------------------------
# nodes
# ------------------------------------------------------------------------------------------


class _Node:
    """A compiled node: ``step(x, state) -> (y, state)`` on channels-first batches."""

    stateful = False

    def __init__(self, name: str, kind: str, in_shape: tuple[int, ...]) -> None:
        self.name, self.kind, self.in_shape = name, kind, in_shape
        self.out_shape = in_shape

    def init_state(self, n: int) -> Any:
        return None

    def step(self, x: np.ndarray, state: Any) -> tuple[np.ndarray, Any]:
        return x, state


class _Map(_Node):
    """A stateless node given by a function of the batch."""

    def __init__(self, name, kind, in_shape, out_shape, fn):
        super().__init__(name, kind, in_shape)
        self.out_shape, self._fn = tuple(out_shape), fn

    def step(self, x, state):
        return self._fn(x), state


class _NeuronNode(_Node):
    stateful = True

    def __init__(self, name, kind, in_shape, neuron: Neuron):
        super().__init__(name, kind, in_shape)
        self.neuron = neuron

    def init_state(self, n):
        return self.neuron.init_state(n)

    def step(self, x, state):
        return self.neuron.step(x, state)


class _DelayNode(_Node):
    stateful = True

    def __init__(self, name, in_shape, steps: np.ndarray, dtype):
        super().__init__(name, "Delay", in_shape)
        self.steps = steps.astype(np.int64)
        self.depth = int(self.steps.max()) + 1
        self.dtype = dtype

    def init_state(self, n):
        return {"buffer": np.zeros((self.depth, n) + self.in_shape, self.dtype), "t": 0}

    def step(self, x, state):
        buf, t = state["buffer"], state["t"]
        buf[t % self.depth] = x
        slot = (t - self.steps) % self.depth                  # per element
        idx = np.broadcast_to(slot, (1, x.shape[0]) + self.in_shape)
        out = np.take_along_axis(buf, idx, axis=0)[0]
        # elements whose delay reaches before the first step read zeros
        out = np.where(t - self.steps >= 0, out, 0)
        return out.astype(self.dtype), {"buffer": buf, "t": t + 1}


# ------------------------------------------------------------------------------------------
# building nodes from NIR
# ------------------------------------------------------------------------------------------


def _array(node: Any, attr: str) -> np.ndarray:
    return np.asarray(getattr(node, attr), dtype=np.float64)


def _broadcast(value: np.ndarray, shape: tuple[int, ...], name: str, attr: str) -> np.ndarray:
    """A parameter broadcast to the node's data shape: the full shape, one value, or one value
    per channel (axis 0, NIR is channels first)."""
    value = np.asarray(value, np.float64)
    if value.shape == shape:
        return value
    if value.size == 1:
        return np.full(shape, value.reshape(-1)[0])
    if value.ndim == 1 and len(shape) > 1 and value.shape[0] == shape[0]:
        return np.broadcast_to(value.reshape((-1,) + (1,) * (len(shape) - 1)), shape).copy()
    try:
        return np.broadcast_to(value, shape).copy()
    except ValueError:
        raise ValueError(
            f"Node {name!r}: parameter {attr} of shape {value.shape} does not fit the node's "
            f"input of shape {shape} (expected that shape, one value, or one per channel)."
        ) from None


def _conv_node(name, node, kind, in_shape, dtype):
    nd = 1 if kind == "Conv1d" else 2
    w = np.asarray(node.weight, np.float64)
    if w.ndim != nd + 2:
        raise ValueError(f"Node {name!r} ({kind}): expected weight of rank {nd + 2} "
                         f"(out, in, *kernel). Received: shape={w.shape}.")
    if len(in_shape) != nd + 1:
        axes = "C, L" if nd == 1 else "C, H, W"
        raise ValueError(f"Node {name!r} ({kind}): expected an input ({axes}). "
                         f"Received: shape={in_shape}; NIR is channels first.")
    stride = _ops._per_axis(node.stride, nd, "stride")
    dilation = _ops._per_axis(node.dilation, nd, "dilation")
    pads = _ops.resolve_padding(node.padding, w.shape[2:], dilation, stride)
    groups = int(np.asarray(node.groups).reshape(-1)[0])
    bias = None if node.bias is None else np.asarray(node.bias, np.float64).reshape(-1)
    if bias is not None and bias.size == 1 and w.shape[0] > 1:
        bias = np.full(w.shape[0], bias[0])
    wc, bc = w.astype(dtype), None if bias is None else bias.astype(dtype)
    if in_shape[0] != w.shape[1] * groups:
        raise ValueError(f"Node {name!r} ({kind}): expected {w.shape[1] * groups} input "
                         f"channels (weight {w.shape}, groups {groups}). Received: {in_shape}.")
    out = tuple(_ops.conv_output_size(s, k, st, p, d) for s, k, st, p, d in
                zip(in_shape[1:], w.shape[2:], stride, pads, dilation))
    if min(out) < 1:
        raise ValueError(f"Node {name!r} ({kind}): the kernel does not fit the input {in_shape}.")
    return _Map(name, kind, in_shape, (w.shape[0],) + out,
                lambda x: _ops.conv(x, wc, bc, stride, pads, dilation, groups))


def _pool_node(name, node, kind, in_shape):
    if len(in_shape) != 3:
        raise ValueError(f"Node {name!r} ({kind}): expected an input (C, H, W). "
                         f"Received: shape={in_shape}.")
    kernel = _ops._per_axis(node.kernel_size, 2, "kernel_size")
    stride = _ops._per_axis(node.stride, 2, "stride")
    pads = _ops.resolve_padding(node.padding, kernel, (1, 1), stride)
    out = tuple(_ops.conv_output_size(s, k, st, p, 1)
                for s, k, st, p in zip(in_shape[1:], kernel, stride, pads))
    scale = 1.0 / float(np.prod(kernel)) if kind == "AvgPool2d" else 1.0

    def fn(x):
        y = _ops.sum_pool(x, kernel, stride, pads)
        return y * np.asarray(scale, x.dtype) if scale != 1.0 else y

    return _Map(name, kind, in_shape, (in_shape[0],) + out, fn)


def _affine_node(name, node, kind, in_shape, dtype):
    w = np.asarray(node.weight, np.float64)
    if w.ndim != 2:
        raise ValueError(f"Node {name!r} ({kind}): expected a 2-D weight (out, in). "
                         f"Received: shape={w.shape}.")
    if in_shape[-1] != w.shape[1]:
        hint = (" Add a Flatten node before it (NIR's Flatten dims count the axes of one "
                "sample, without a batch axis)." if int(np.prod(in_shape)) == w.shape[1] else "")
        raise ValueError(f"Node {name!r} ({kind}): weight {w.shape} (out, in) does not take "
                         f"inputs of shape {in_shape}.{hint}")
    wt = np.ascontiguousarray(w.T.astype(dtype))
    bias = np.asarray(node.bias, np.float64).astype(dtype) if kind == "Affine" else None

    def fn(x):
        y = x @ wt
        return y + bias if bias is not None else y

    return _Map(name, kind, in_shape, tuple(in_shape[:-1]) + (w.shape[0],), fn)


def _flatten_node(name, node, in_shape):
    rank = len(in_shape)
    start, end = int(np.asarray(node.start_dim)), int(np.asarray(node.end_dim))
    start, end = start % rank if rank else 0, end % rank if rank else 0
    if start > end:
        raise ValueError(f"Node {name!r} (Flatten): start_dim {node.start_dim} comes after "
                         f"end_dim {node.end_dim} for an input of shape {in_shape}.")
    out = in_shape[:start] + (int(np.prod(in_shape[start:end + 1])),) + in_shape[end + 1:]
    return _Map(name, "Flatten", in_shape, out, lambda x: x.reshape((x.shape[0],) + out))


def _flag(node: Any, key: str, strict: bool) -> Any:
    if strict:
        return None
    meta = getattr(node, "metadata", None) or {}
    return _graph.meta_value(meta[key]) if key in meta else None


def _build(name, node, kind, in_shape, opts) -> _Node:
    dtype, strict = opts["dtype"], opts["strict"]
    if kind in ("Input", "Output", "Identity"):
        return _Node(name, kind, in_shape)
    if kind in ("Affine", "Linear"):
        return _affine_node(name, node, kind, in_shape, dtype)
    if kind in ("Conv1d", "Conv2d"):
        return _conv_node(name, node, kind, in_shape, dtype)
    if kind in ("SumPool2d", "AvgPool2d"):
        return _pool_node(name, node, kind, in_shape)
    if kind == "Flatten":
        return _flatten_node(name, node, in_shape)
    if kind == "Scale":
        s = _broadcast(_array(node, "scale"), in_shape, name, "scale").astype(dtype)
        return _Map(name, kind, in_shape, in_shape, lambda x: x * s)
    if kind == "Threshold":
        th = _broadcast(_array(node, "threshold"), in_shape, name, "threshold").astype(dtype)
        if _flag(node, META_INCLUSIVE, strict) == ">=":
            return _Map(name, kind, in_shape, in_shape, lambda x: (x >= th).astype(x.dtype))
        return _Map(name, kind, in_shape, in_shape, lambda x: (x > th).astype(x.dtype))
    if kind == "Delay":
        delay = _broadcast(_array(node, "delay"), in_shape, name, "delay")
        steps = delay / opts["dt"]
        rounded = np.round(steps)
        if np.any(np.abs(steps - rounded) > 1e-6 * np.maximum(1.0, rounded)) or rounded.min() < 0:
            raise ValueError(f"Node {name!r} (Delay): delays must be non-negative multiples of "
                             f"dt={opts['dt']}. Received: delay/dt in [{steps.min()}, "
                             f"{steps.max()}]. Load the graph with a dt that divides them.")
        return _DelayNode(name, in_shape, rounded, dtype)
    if kind in _NEURONS:
        params = {p: _broadcast(_array(node, p), in_shape, name, p) for p in _NEURON_PARAMS[kind]}
        reset = opts["reset"]
        if reset == "auto":
            reset = "subtract" if _flag(node, META_RESET, strict) == "subtract" else "v_reset"
        v_min, v_init = _flag(node, META_V_MIN, strict), _flag(node, META_V_INIT, strict)
        neuron = Neuron(
            kind, params, opts["dt"], opts["method"], reset=reset,
            inclusive=_flag(node, META_INCLUSIVE, strict) == ">=",
            v_min=None if v_min is None else _broadcast(v_min, in_shape, name, META_V_MIN),
            v_init=None if v_init is None else _broadcast(v_init, in_shape, name, META_V_INIT),
            dtype=dtype)
        return _NeuronNode(name, kind, in_shape, neuron)
    raise ValueError(f"Node {name!r} has the unsupported type {kind}. Supported NIR types: "
                     f"{', '.join(SUPPORTED_NODES)}.")


# ------------------------------------------------------------------------------------------
# the simulator
# ------------------------------------------------------------------------------------------


def _to_user(shape: tuple[int, ...], data_format: str) -> tuple[int, ...]:
    if data_format == "channels_last" and len(shape) >= 2:
        return tuple(shape[1:]) + (shape[0],)
    return tuple(shape)


class Simulator:
    """A NIR graph compiled for a time step ``dt`` (built by :func:`load`).

    Attributes
    ----------
    dt, method, reset, data_format, dtype
        The settings of :func:`load`.
    input_shapes, output_shapes : dict
        Input/Output node name -> shape of one step of one sample, in ``data_format``.
    order : list of str
        The nodes in their per-step evaluation order.
    recurrent_edges : list of (str, str)
        Edges that carry the previous step's value (see :mod:`spykeflow.nir._graph`).
    metadata : dict
        The graph's metadata (e.g. ``dt``, SpykeFlow's ``spykeflow_readout``).
    """

    def __init__(self, graph: Any, dt: float, method: str, reset: str, data_format: str,
                 dtype: Any, strict: bool) -> None:
        import nir

        self.dt, self.method, self.reset = dt, method, reset
        self.data_format, self.dtype = data_format, np.dtype(dtype)
        self.metadata = {k: _graph.meta_value(v) for k, v in (graph.metadata or {}).items()}
        nodes, edges = _graph.flatten(graph)
        top_inputs = sorted(k for k, v in graph.nodes.items() if isinstance(v, nir.Input))
        top_outputs = sorted(k for k, v in graph.nodes.items() if isinstance(v, nir.Output))
        if not top_inputs or not top_outputs:
            raise ValueError(f"Expected at least one Input and one Output node. Received: "
                             f"inputs={top_inputs}, outputs={top_outputs}.")
        order, recurrent = _graph.evaluation_order(nodes, edges, top_inputs)
        self.order = order
        self.recurrent_edges = sorted(recurrent)
        self._preds: dict[str, list[tuple[str, bool]]] = {n: [] for n in nodes}
        for src, dst in edges:
            self._preds[dst].append((src, (src, dst) in recurrent))
        opts = {"dt": dt, "method": method, "reset": reset, "dtype": self.dtype,
                "strict": strict}
        compiled: dict[str, _Node] = {}
        for name in order:
            node = nodes[name]
            kind = type(node).__name__
            if name in top_inputs:
                shape = tuple(int(s) for s in np.asarray(node.input_type["input"]).reshape(-1))
            else:
                shapes = {compiled[s].out_shape for s, rec in self._preds[name] if not rec}
                if len(shapes) != 1:
                    raise ValueError(f"Node {name!r}: its inputs have different shapes "
                                     f"{sorted(shapes)}; NIR sums the inputs of a node.")
                shape = shapes.pop()
            compiled[name] = _build(name, node, kind, shape, opts)
        for src, dst in recurrent:
            if compiled[src].out_shape != compiled[dst].in_shape:
                raise ValueError(f"Recurrent edge ({src!r}, {dst!r}): shape "
                                 f"{compiled[src].out_shape} does not match "
                                 f"{compiled[dst].in_shape}.")
        self._nodes = compiled
        self._inputs, self._outputs = top_inputs, top_outputs
        self.input_shapes = {k: _to_user(compiled[k].in_shape, data_format) for k in top_inputs}
        self.output_shapes = {k: _to_user(compiled[k].out_shape, data_format)
                              for k in top_outputs}

    def __repr__(self) -> str:
        return (f"Simulator({len(self.order)} nodes, dt={self.dt:g}, method={self.method!r}, "
                f"inputs={self.input_shapes}, outputs={self.output_shapes})")

    # -- data layout --------------------------------------------------------------------------
    def _check_inputs(self, inputs: Any) -> dict[str, np.ndarray]:
        if not isinstance(inputs, Mapping):
            if len(self._inputs) != 1:
                raise TypeError(f"This graph has the inputs {self._inputs}: pass a dict "
                                "{name: array}.")
            inputs = {self._inputs[0]: inputs}
        unknown = sorted(set(inputs) - set(self._inputs))
        missing = sorted(set(self._inputs) - set(inputs))
        if unknown or missing:
            raise ValueError(f"Expected arrays for the inputs {self._inputs}. Received: "
                             f"{sorted(inputs)}.")
        out, lengths = {}, set()
        for name, value in inputs.items():
            arr = np.asarray(value)
            if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number)
                                           or arr.dtype == bool):
                raise TypeError(f"Expected a numeric array for input {name!r}. Received: "
                                f"dtype={arr.dtype}.")
            shape = self.input_shapes[name]
            arr = self._add_channel(arr, shape)
            if arr.ndim != len(shape) + 2 or tuple(arr.shape[2:]) != shape:
                dims = ", ".join(map(str, shape))
                raise ValueError(
                    f"Expected input {name!r} of shape (N, T, {dims}) (batch, time steps, then "
                    f"one step in {self.data_format}). Received: shape={arr.shape}. "
                    + ("Pass data_format='channels_first' to load() for NIR's own layout."
                       if self.data_format == "channels_last" else ""))
            if arr.shape[0] == 0 or arr.shape[1] == 0:
                raise ValueError(f"Expected at least one sample and one time step in input "
                                 f"{name!r}. Received: shape={arr.shape}.")
            arr = arr.astype(self.dtype, copy=False)
            if not np.isfinite(arr).all():
                raise ValueError(f"Expected finite values in input {name!r}.")
            if self.data_format == "channels_last" and arr.ndim >= 4:
                arr = np.moveaxis(arr, -1, 2)
            out[name] = arr
            lengths.add(arr.shape[:2])
        if len(lengths) != 1:
            raise ValueError(f"Expected the same (N, T) for every input. Received: "
                             f"{sorted(lengths)}.")
        return out

    def _add_channel(self, arr: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        """Add a missing channel axis of size 1 (models of ``(N, T, H, W)`` clips export an
        Input of one channel)."""
        if len(shape) < 2 or arr.ndim != len(shape) + 1:
            return arr
        if self.data_format == "channels_last" and shape[-1] == 1 and \
                tuple(arr.shape[2:]) == shape[:-1]:
            return arr[..., None]
        if self.data_format == "channels_first" and shape[0] == 1 and \
                tuple(arr.shape[2:]) == shape[1:]:
            return arr[:, :, None]
        return arr

    def _user(self, arr: np.ndarray) -> np.ndarray:
        if self.data_format == "channels_last" and arr.ndim >= 4:
            return np.ascontiguousarray(np.moveaxis(arr, 2, -1))
        return arr

    # -- running ------------------------------------------------------------------------------
    def run(self, inputs: Any, record: bool = False, batch_size: int | None = None) -> RunResult:
        """Simulate the graph on ``inputs``.

        Parameters
        ----------
        inputs : array ``(N, T, *input_shape)`` or dict name -> array
            One entry per time step of ``dt`` (for the Input node(s); ``input_shapes`` gives the
            shape of one step in ``data_format``; a channel axis of size 1 may be left out).
        record : bool
            Also return every node's output and every neuron's state at every step.
        batch_size : int, optional
            Samples simulated together (all by default).

        Returns
        -------
        RunResult
            ``.outputs`` (``.output`` for a single Output node) ``(N, T, *output_shape)``.
        """
        arrays = self._check_inputs(inputs)
        n = next(iter(arrays.values())).shape[0]
        batch_size = n if batch_size is None else check_int(batch_size, "batch_size")
        parts = [self._run_batch({k: v[s:s + batch_size] for k, v in arrays.items()}, record)
                 for s in range(0, n, batch_size)]
        if len(parts) == 1:
            return parts[0]

        def cat(dicts):
            return {k: np.concatenate([d[k] for d in dicts]) for k in dicts[0]}

        return RunResult(outputs=cat([p.outputs for p in parts]),
                         values=cat([p.values for p in parts]) if record else {},
                         states={k: cat([p.states[k] for p in parts]) for k in parts[0].states})

    def _run_batch(self, arrays: dict[str, np.ndarray], record: bool) -> RunResult:
        n, steps = next(iter(arrays.values())).shape[:2]
        nodes = self._nodes
        states = {k: nodes[k].init_state(n) for k in self.order}
        prev = {k: np.zeros((n,) + nodes[k].out_shape, self.dtype) for k in self.order}
        outs = {k: np.empty((n, steps) + nodes[k].out_shape, self.dtype) for k in self._outputs}
        values = ({k: np.empty((n, steps) + nodes[k].out_shape, self.dtype) for k in self.order}
                  if record else {})
        kept: dict[str, dict[str, np.ndarray]] = {}
        if record:
            for k in self.order:
                if isinstance(nodes[k], _NeuronNode):
                    kept[k] = {s: np.empty((n, steps) + nodes[k].out_shape, self.dtype)
                               for s in states[k]}
        for t in range(steps):
            current: dict[str, np.ndarray] = {}
            for name in self.order:
                node = nodes[name]
                x: Any = None
                if name in arrays:
                    x = arrays[name][:, t]
                else:
                    for src, rec in self._preds[name]:
                        v = prev[src] if rec else current[src]
                        x = v if x is None else x + v
                y, states[name] = node.step(x, states[name])
                current[name] = y
                if record:
                    values[name][:, t] = y
                    if name in kept:
                        for s, arr in kept[name].items():
                            arr[:, t] = states[name][s]
            for k in self._outputs:
                outs[k][:, t] = current[k]
            prev = current
        return RunResult(outputs={k: self._user(v) for k, v in outs.items()},
                         values={k: self._user(v) for k, v in values.items()},
                         states={k: {s: self._user(a) for s, a in d.items()}
                                 for k, d in kept.items()})


def load(graph: Any, dt: float | None = None, method: str = "euler", reset: str = "auto",
         data_format: str = "channels_last", dtype: Any = "float32",
         strict: bool = False) -> Simulator:
    """Compile a NIR graph into a :class:`Simulator` with time step ``dt``.

    Parameters
    ----------
    graph : nir.NIRGraph or path of a ``.nir`` file
    dt : float, optional
        Time step in the units of the graph's time constants (seconds for most frameworks).
        Default: the graph's ``metadata["dt"]`` (SpykeFlow writes it); required otherwise.
    method : {"euler", "exponential", "exact"}
        Discretisation of the neuron ODEs (:mod:`spykeflow.nir._neurons`): forward Euler
        (Norse, snnTorch, SpykeFlow's export), exponential decay with a forward input term
        (Rockpool, Sinabs), or the exact solution for inputs held over each step.
    reset : {"auto", "v_reset", "subtract"}
        After a spike: ``"v_reset"`` (NIR: ``v = v_reset``), ``"subtract"``
        (``v -= v_threshold - v_reset``, what Sinabs, Rockpool and snnTorch's default do with a
        NIR LIF), or ``"auto"``: subtraction where a SpykeFlow export recorded it in the node's
        metadata, ``v_reset`` elsewhere.
    data_format : {"channels_last", "channels_first"}
        Layout of the arrays :meth:`Simulator.run` takes and returns: SpykeFlow's
        ``(N, T, H, W, C)`` or NIR's own ``(N, T, C, H, W)``.
    dtype : numpy dtype
        Of the simulation (float32 as the frameworks; float64 for reference runs).
    strict : bool
        Ignore SpykeFlow's metadata (spike on ``v >= threshold``, membrane floor, initial
        membrane, subtraction) and run the graph as plain NIR.

    >>> import nir
    >>> g = nir.NIRGraph.from_list(nir.LIF(tau=np.array([2e-3]), r=np.array([1.0]),
    ...     v_leak=np.array([0.0]), v_threshold=np.array([0.5])))
    >>> sim = load(g, dt=1e-3)
    >>> sim.run(np.ones((1, 4, 1))).output[0, :, 0].tolist()   # v: .5, .75 spike, .5, .75 spike
    [0.0, 1.0, 0.0, 1.0]
    """
    graph = _graph.as_graph(graph)
    if dt is None:
        meta = graph.metadata or {}
        if META_DT not in meta:
            raise ValueError("Expected dt (the time step) for a graph without metadata['dt']. "
                             "Received: dt=None. Pass the step the graph was trained with, "
                             "e.g. load(graph, dt=1e-3).")
        dt = _graph.meta_value(meta[META_DT])
    dt = check_float(dt, "dt", low=0.0, low_open=True)
    check_in(method, "method", METHODS)
    check_in(reset, "reset", RESET_RULES)
    check_in(data_format, "data_format", DATA_FORMATS)
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise ValueError(f"Expected a float dtype. Received: dtype={dtype}.")
    if not isinstance(strict, (bool, np.bool_)):
        raise TypeError(f"Expected strict to be a bool. Received: strict={strict!r}.")
    return Simulator(graph, dt, method, reset, data_format, dtype, bool(strict))
