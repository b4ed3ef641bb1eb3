"""Reading a NIR graph into plain nodes and edges, and choosing its evaluation order.

NIR graphs may nest graphs (a ``NIRGraph`` node, e.g. snnTorch's recurrent layers); they are
inlined here with dotted names (``"lif1.w_rec"``): an edge into the subgraph goes to its
``Input`` node, an edge out of it leaves from its ``Output`` node.

Evaluation order (:func:`evaluation_order`): a depth-first search from the ``Input`` nodes (in
name order, successors in the order the edges are listed) marks every edge that closes a cycle
as *recurrent*. Within a time step the nodes run in a topological order of the remaining,
acyclic graph, so a feed-forward edge delivers the value its source computed in the same step;
a recurrent edge delivers the value of the previous step (zero in the first), like the
recurrent weights ``V S[t-1]`` of snnTorch's ``RLeaky`` or the lateral connections of s2net.
"""

from __future__ import annotations

import os
import pathlib
from typing import Any

__all__ = ["as_graph", "flatten", "evaluation_order", "meta_value"]


def as_graph(source: Any) -> Any:
    """A ``nir.NIRGraph`` from a graph object or a path to a ``.nir`` file.

    Files are read with ``type_check=False`` (some frameworks write inconsistent ``Output``
    shapes, e.g. Rockpool's ``lif_rockpool.nir``); shapes are inferred again when loading.
    """
    import nir

    if isinstance(source, nir.NIRGraph):
        return source
    if isinstance(source, (str, bytes, os.PathLike)):
        path = pathlib.Path(os.fsdecode(source))
        if not path.is_file():
            raise FileNotFoundError(f"Expected a NIR file (HDF5, written by nir.write). "
                                    f"Received: path={str(path)!r}, which does not exist.")
        return nir.read(path, type_check=False)
    raise TypeError(f"Expected a nir.NIRGraph or the path of a .nir file. Received: "
                    f"{type(source).__name__}.")


def meta_value(value: Any) -> Any:
    """A metadata value as plain Python (h5py returns bytes and 0-d arrays)."""
    import numpy as np

    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
        return value.decode() if isinstance(value, bytes) else value
    if isinstance(value, np.generic):
        return value.item()
    return value


def flatten(graph: Any, prefix: str = "") -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """``(nodes, edges)`` with every nested ``NIRGraph`` inlined under dotted names.

    The nested graph's own ``Input``/``Output`` nodes stay as pass-through nodes; the top
    graph's are the graph's inputs and outputs.
    """
    import nir

    nodes: dict[str, Any] = {}
    edges: list[tuple[str, str]] = []
    entry: dict[str, str] = {}
    exit_: dict[str, str] = {}
    for name, node in graph.nodes.items():
        full = f"{prefix}{name}"
        if isinstance(node, nir.NIRGraph):
            sub_nodes, sub_edges = flatten(node, prefix=f"{full}.")
            ins = [k for k, v in node.nodes.items() if isinstance(v, nir.Input)]
            outs = [k for k, v in node.nodes.items() if isinstance(v, nir.Output)]
            if len(ins) != 1 or len(outs) != 1:
                raise ValueError(
                    f"Expected the subgraph {full!r} to have one Input and one Output node. "
                    f"Received: inputs={ins}, outputs={outs}.")
            # the subgraph's boundary nodes become pass-through nodes
            for k, v in sub_nodes.items():
                nodes[k] = v
            entry[full], exit_[full] = f"{full}.{ins[0]}", f"{full}.{outs[0]}"
            edges.extend(sub_edges)
        else:
            nodes[full] = node
    for src, dst in graph.edges:
        src, dst = f"{prefix}{_text(src)}", f"{prefix}{_text(dst)}"
        edges.append((exit_.get(src, src), entry.get(dst, dst)))
    missing = sorted({n for e in edges for n in e if n not in nodes})
    if missing:
        raise ValueError(f"Edges reference nodes that are not in the graph: {missing}. "
                         f"Nodes: {sorted(nodes)}.")
    return nodes, edges


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def evaluation_order(nodes: dict[str, Any], edges: list[tuple[str, str]],
                     inputs: list[str]) -> tuple[list[str], set[tuple[str, str]]]:
    """``(order, recurrent_edges)``: the per-step order of the nodes and the edges that carry
    the previous step's value (see the module docstring)."""
    succ: dict[str, list[str]] = {n: [] for n in nodes}
    for src, dst in edges:
        succ[src].append(dst)
    state: dict[str, int] = {}  # 1: on the DFS stack, 2: done
    recurrent: set[tuple[str, str]] = set()
    for root in inputs:
        if root in state:
            continue
        state[root] = 1
        stack = [(root, iter(succ[root]))]
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                state[node] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                recurrent.add((node, nxt))
            elif nxt not in state:
                state[nxt] = 1
                stack.append((nxt, iter(succ[nxt])))
    unreached = sorted(n for n in nodes if n not in state)
    if unreached:
        raise ValueError(f"Nodes {unreached} cannot be reached from the Input nodes {inputs}; "
                         "every node needs a path from an input.")
    indegree = {n: 0 for n in nodes}
    for src, dst in edges:
        if (src, dst) not in recurrent:
            indegree[dst] += 1
    ready = [n for n in inputs]
    order: list[str] = []
    while ready:
        node = ready.pop(0)
        order.append(node)
        for dst in succ[node]:
            if (node, dst) in recurrent:
                continue
            indegree[dst] -= 1
            if indegree[dst] == 0:
                ready.append(dst)
    return order, recurrent
