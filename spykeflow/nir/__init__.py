"""NIR interchange: run graphs of the Neuromorphic Intermediate Representation, and export
SpykeFlow's spiking models to it.

NIR (the ``nir`` package, graphs stored as HDF5 by ``nir.write``) is how snnTorch, Norse,
Sinabs, Rockpool, SpikingJelly, Lava, Spyx, Nengo and neuromorphic chips (Loihi 2, SpiNNaker2,
Speck, Xylo) exchange spiking networks.

* :func:`load` compiles a graph (an object or a ``.nir`` file) into a :class:`Simulator`, a
  NumPy simulator with an explicit time step ``dt``; ``Simulator.run(inputs)`` returns the
  Output nodes' values over time (spikes for spiking outputs) and, with ``record=True``, every
  node's output and every neuron's state. Supported node types: ``SUPPORTED_NODES``.
* :func:`to_graph` / :func:`export` turn a trained model into a ``nir.NIRGraph`` / a ``.nir``
  file: the ``convsnn``, ``sts_convsnn`` and ``s2net`` backend models (or a fitted
  :class:`~spykeflow.Classifier` using them), QCFS-converted networks
  (:class:`~spykeflow.conversion.SpikingModel`, or a fitted ``Classifier("qcfs")``) and the
  STDP :class:`~spykeflow.Network` (``EXPORTABLE``).

The discrete-time models map onto NIR's continuous-time nodes so that loading the graph with
the same ``dt`` (forward Euler, the default) reproduces the model; the mapping and what other
NIR readers see are in :mod:`spykeflow.nir.conventions` and ``docs/design_choices.md``.

Layout: :meth:`Simulator.run` takes and returns SpykeFlow's channels-last arrays
``(N, T, H, W, C)`` by default (``data_format="channels_first"`` for NIR's ``(N, T, C, H, W)``);
inside the graph everything is channels first, conv weights ``(out, in, kh, kw)`` as NIR
specifies.

>>> import numpy as np, nir
>>> g = nir.NIRGraph.from_list(nir.IF(r=np.array([1.0]), v_threshold=np.array([1.0])))
>>> load(g, dt=1.0).run(np.full((1, 4, 1), 0.6)).output[0, :, 0].tolist()
[0.0, 1.0, 0.0, 1.0]
"""

from __future__ import annotations

from . import conventions
from ._export import EXPORTABLE, export, to_graph
from ._neurons import METHODS
from ._simulator import DATA_FORMATS, RESET_RULES, SUPPORTED_NODES, RunResult, Simulator, load

__all__ = ["load", "Simulator", "RunResult", "to_graph", "export", "SUPPORTED_NODES",
           "EXPORTABLE", "METHODS", "RESET_RULES", "DATA_FORMATS", "conventions"]
