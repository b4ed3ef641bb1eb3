"""The names SpykeFlow writes into NIR metadata, and what they mean.

NIR's neuron nodes spike on ``v > v_threshold`` and then set ``v = v_reset``; SpykeFlow's layers
spike on ``v >= threshold`` and may subtract the threshold, clamp the membrane from below, or
start from a non-zero membrane. :func:`spykeflow.nir.export` writes the closest plain NIR node
and records the difference in the node's ``metadata`` under the keys below, so that
:func:`spykeflow.nir.load` reproduces the SpykeFlow model exactly while any other NIR reader
still gets a well-formed graph (NIR asks readers not to rely on metadata; the differences are
described with each key).

Node metadata
-------------
``spykeflow_reset``
    ``"zero"`` or ``"subtract"``: SpykeFlow's reset rule. The node's ``v_reset`` is 0; a reader
    that ignores the key resets to 0, which equals ``"zero"``. With ``"subtract"`` the membrane
    keeps what exceeded the threshold (``v - (v_threshold - v_reset)``); Sinabs, Rockpool and
    snnTorch subtract by default when they import a NIR LIF, Norse and strict NIR readers reset
    to ``v_reset``.
``spykeflow_spike_condition``
    ``">="``: spike when ``v >= v_threshold`` (NIR: ``>``); differs only when the membrane
    equals the threshold exactly.
``spykeflow_v_min``
    Lower bound of the membrane after every step (the ConvSNN's ``floor * threshold``, Safa et
    al.); other readers leave the membrane unbounded.
``spykeflow_v_init``
    Initial membrane (QCFS neurons start at ``phi * theta``, Bu et al. 2022); other readers
    start at 0.

Graph metadata
--------------
``dt``
    The time step the discrete-time model was mapped with (:func:`spykeflow.nir.load` uses it
    when no ``dt`` is given).
``spykeflow_readout``
    How the model's class scores come from the Output node over time: ``"sum"`` (spike count),
    ``"mean"`` (rate or time-averaged affine read-out), ``"max"``, ``"last"``; ``"features"``
    for the STDP network (any spike of the output map = one feature).
``spykeflow_model``, ``spykeflow_version``, ``spykeflow_method``
    The exported model's kind, the SpykeFlow version, and the discretisation the parameters
    assume (``"euler"``).
``spykeflow_input``
    What one time step of the Input node holds (``"constant current: the same input at every
    step"`` for QCFS-converted networks).
``spykeflow_time_steps``, ``spykeflow_threshold_jitter``
    STDP networks: the time steps of the training spikes, and the per-sample threshold jitter
    that the graph leaves out (the nominal threshold is exported).
"""

from __future__ import annotations

__all__ = ["META_DT", "META_RESET", "META_INCLUSIVE", "META_V_MIN", "META_V_INIT",
           "META_READOUT", "META_MODEL", "META_VERSION", "META_METHOD", "META_INPUT"]

META_DT = "dt"
META_RESET = "spykeflow_reset"
META_INCLUSIVE = "spykeflow_spike_condition"
META_V_MIN = "spykeflow_v_min"
META_V_INIT = "spykeflow_v_init"
META_READOUT = "spykeflow_readout"
META_MODEL = "spykeflow_model"
META_VERSION = "spykeflow_version"
META_METHOD = "spykeflow_method"
META_INPUT = "spykeflow_input"
