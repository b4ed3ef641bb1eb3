"""Convolutional STDP: layer configurations, their parameter groups, the published presets, the
compiled training loop and the layer-wise trainer.

``STDPConv`` and ``SpikePool`` are also available as ``spykeflow.STDPConv`` and
``spykeflow.SpikePool``; :class:`spykeflow.Network` trains and runs them.
"""

from __future__ import annotations

from .layers import SpikePool, STDPConv
from .params import Competition, Homeostasis, Init, Neuron, Rule, Schedule, Training
from .presets import PRESETS

__all__ = ["STDPConv", "SpikePool", "PRESETS", "Neuron", "Competition", "Rule", "Schedule",
           "Homeostasis", "Init", "Training"]
