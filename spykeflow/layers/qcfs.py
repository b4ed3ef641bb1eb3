"""Keras 3 layer for the quantisation-clip-floor-shift (QCFS) activation (Bu et al., ICLR 2022).

The math (forward formula and straight-through gradients) lives in
:func:`spykeflow.functional.qcfs.qcfs`; this layer owns the trainable clip ``lambda``.
"""

from __future__ import annotations

import numbers

import keras

from ..functional import qcfs as F

__all__ = ["QCFS"]


@keras.saving.register_keras_serializable(package="spykeflow")
class QCFS(keras.layers.Layer):
    """QCFS activation ``a = lambda * clip(floor(z L / lambda + phi) / L, 0, 1)``.

    Element-wise; input and output have the same shape (any rank). ``lambda`` is one trainable
    scalar per layer (the layer's clip, which becomes the IF threshold ``theta`` after
    conversion by :func:`spykeflow.conversion.convert`).

    Gradients (straight-through estimator, Bu et al. 2022 Eq. 17), with ``lo = -phi lambda / L``
    and ``hi = lambda - phi lambda / L``: ``da/dz = 1`` on ``lo <= z < hi`` and 0 elsewhere;
    ``da/dlambda = (a - z)/lambda`` on ``lo <= z < hi``, 1 for ``z >= hi``, 0 for ``z < lo``.

    Parameters
    ----------
    levels : int
        ``L`` >= 1, quantisation steps (the paper uses 4-16 on CIFAR; 8 is a good default).
    shift : float
        ``phi`` in [0, 1]; 0.5 minimises the expected conversion error (Bu et al., Theorem 2).
    initial_threshold : float
        Initial ``lambda`` (> 0).
    trainable_threshold : bool
        Train ``lambda`` (True in the paper).

    Examples
    --------
    >>> import numpy as np
    >>> layer = QCFS(levels=4, initial_threshold=1.0)
    >>> layer(np.array([[-0.2, 0.1, 0.125, 0.6, 2.0]], "float32")).numpy().tolist()
    [[0.0, 0.0, 0.25, 0.5, 1.0]]
    """

    def __init__(self, levels=8, shift=0.5, initial_threshold=4.0, trainable_threshold=True,
                 **kwargs):
        super().__init__(**kwargs)
        if isinstance(levels, bool) or not isinstance(levels, numbers.Integral) or levels < 1:
            raise ValueError(
                f"Expected levels (L, quantisation steps) to be an integer >= 1. "
                f"Received: levels={levels!r}."
            )
        if not isinstance(shift, numbers.Real) or not 0.0 <= float(shift) <= 1.0:
            raise ValueError(f"Expected shift (phi) in [0, 1]. Received: shift={shift!r}.")
        if not isinstance(initial_threshold, numbers.Real) or not float(initial_threshold) > 0:
            raise ValueError(
                "Expected initial_threshold (lambda) > 0. "
                f"Received: initial_threshold={initial_threshold!r}."
            )
        self.levels = int(levels)
        self.shift = float(shift)
        self.initial_threshold = float(initial_threshold)
        self.trainable_threshold = bool(trainable_threshold)

    def build(self, input_shape):
        self.threshold = self.add_weight(
            name="threshold",
            shape=(),
            initializer=keras.initializers.Constant(self.initial_threshold),
            trainable=self.trainable_threshold,
        )

    def call(self, inputs):
        return F.qcfs(inputs, self.threshold, self.levels, self.shift)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            levels=self.levels,
            shift=self.shift,
            initial_threshold=self.initial_threshold,
            trainable_threshold=self.trainable_threshold,
        )
        return config
