"""Keras 3 layer for the quantisation-clip-floor-shift (QCFS) activation (Bu et al., ICLR 2022).

The math (forward formula and straight-through gradients) lives in
:func:`spykeflow.functional.qcfs.qcfs`; this layer owns the trainable clip ``lambda``.
"""

from __future__ import annotations

from typing import Any

import keras

from .._validation import check_bool, check_float, check_int
from ..functional import qcfs as F

__all__ = ["QCFS"]


@keras.saving.register_keras_serializable(package="spykeflow")
class QCFS(keras.layers.Layer):
    """QCFS activation ``a = lambda * clip(floor(z L / lambda + phi) / L, 0, 1)``.

    Element-wise; input and output have the same shape (any rank). ``lambda`` is one trainable
    scalar per layer, the weight ``threshold`` (the layer's clip, which becomes the IF
    threshold ``theta`` after conversion by :func:`spykeflow.conversion.convert`).

    Gradients (straight-through estimator, Bu et al. 2022 Eq. 17), with ``lo = -phi lambda / L``
    and ``hi = lambda - phi lambda / L``: ``da/dz = 1`` on ``lo <= z < hi`` and 0 elsewhere;
    ``da/dlambda = (a - z)/lambda`` on ``lo <= z < hi``, 1 for ``z >= hi``, 0 for ``z < lo``.

    Parameters
    ----------
    levels : int
        ``L`` >= 1, quantisation steps (the paper uses 4-16 on CIFAR; 8 is a good default).
    shift : float
        ``phi`` in [0, 1]; 0.5 minimises the expected conversion error (Bu et al., Theorem 2).
    threshold : float
        Initial ``lambda`` (> 0).
    train_threshold : bool
        Train ``lambda`` (True in the paper).

    Examples
    --------
    >>> import numpy as np
    >>> layer = QCFS(levels=4, threshold=1.0)
    >>> out = layer(np.array([[-0.2, 0.1, 0.125, 0.6, 2.0]], "float32"))
    >>> keras.ops.convert_to_numpy(out).tolist()
    [[0.0, 0.0, 0.25, 0.5, 1.0]]
    """

    def __init__(self, levels: int = 8, shift: float = 0.5, threshold: float = 4.0,
                 train_threshold: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.levels = check_int(levels, "levels")  # L, the quantisation steps
        self.shift = check_float(shift, "shift", 0.0, 1.0)  # phi
        self.threshold_init = check_float(threshold, "threshold", low=0.0, low_open=True)
        self.train_threshold = check_bool(train_threshold, "train_threshold")

    def build(self, input_shape):
        self.threshold = self.add_weight(
            name="threshold",
            shape=(),
            initializer=keras.initializers.Constant(self.threshold_init),
            trainable=self.train_threshold,
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
            threshold=self.threshold_init,
            train_threshold=self.train_threshold,
        )
        return config
