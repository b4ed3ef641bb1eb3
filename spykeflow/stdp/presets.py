"""Published layer configurations of the original SpykeFlow
(docs/original/stdp.md#published-configurations). Each value builds a fresh layer list."""

from __future__ import annotations

from .layers import SpikePool, STDPConv

__all__ = ["PRESETS"]


#: The original's Conv1 (main script) and Conv2 settings.
_CONV1 = dict(filters=30, kernel_size=5, threshold=15.0, inhibition_window=11, a_plus=0.004,
              lr_double_every=500, a_plus_max=0.15, homeostasis_block=5, homeostasis_factor=3.0,
              homeostasis_decay=0.003, snapshot_every=200, n_images=6000)
_CONV2 = {**_CONV1, "filters": 200, "inhibition_window": 3, "a_plus": 0.0004,
          "lr_double_every": 1500, "homeostasis_block": 3, "homeostasis_decay": 0.0003,
          "n_images": 35000}


def _conv1(**options) -> STDPConv:
    return STDPConv(**{**_CONV1, **options})


def _conv2(**options) -> STDPConv:
    return STDPConv(**{**_CONV2, **options})


#: name -> function returning the layer list.
PRESETS = {
    # the original's main script (the recommended default)
    "mnist_conv1": lambda: [_conv1(), SpikePool(2)],
    # the paper's code snippet (the original library's defaults: doubling every 1000, factor 4)
    "paper_snippet": lambda: [_conv1(lr_double_every=1000, homeostasis_factor=4.0), SpikePool(2)],
    # the paper's text: doubling every 1500 images
    "paper_text": lambda: [_conv1(lr_double_every=1500), SpikePool(2)],
    # Conv2 on transient Pool1 spikes without pool inhibition (35,000 images, 1 epoch)
    "mnist_conv2": lambda: [_conv1(), SpikePool(2), _conv2(), SpikePool(2)],
    # pool1 lateral inhibition, Conv2 on 60,000 images x 2 epochs
    "net5": lambda: [_conv1(), SpikePool(2, lateral_inhibition=True),
                     _conv2(n_images=60000, epochs=2), SpikePool(2)],
}
