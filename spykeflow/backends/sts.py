"""STS backends (Samadzadeh et al.): the shallow spatio-temporal ConvSNN and STS-ResNet.

Both take frame clips ``(N, T, H, W)`` or ``(N, T, H, W, C)`` (time on axis 1), feed one frame
per time step, and output the fire rate of the output layer (mean of its spikes over time, the
paper's Eq. 5) as the class scores. Training follows section 4.1 (STS): the first
``switch_epoch`` epochs with the shifted leaky-ReLU and no rest, then spikes (step activation,
Gaussian surrogate ``N(threshold, 1/6)``) and, if ``rest=True``, the rest mechanism. The
switch is the :class:`~spykeflow.layers.sts.STSSwitch` callback returned by
``callbacks()``; the fitted history has ``sts_snn`` (0 before, 1 after the switch).

``sts_convsnn`` -- the "48-48" ConvSNN of Table 1::

    [input x input_scale] -> STSConv2D(48) -> avg-pool 2 -> STSConv2D(48) -> avg-pool 2
        -> flatten -> STSDense(n_classes) -> mean over time (fire rate)

``sts_resnet`` -- the 18-layer STS-ResNet of section 4.2 (``w = base_width``)::

    input synapse -> conv3x3(w) + synapse                                     (layer 1)
    block1: 2 sub-blocks, w      block2: 2 sub-blocks, 2w, stride 2           (layers 2-9)
    block3: 2 sub-blocks, 4w, stride 2 -> b3                                  (layers 10-13)
    block4: 2 sub-blocks, 8w, stride 2 -> b4                                  (layers 14-17)
    concat[avg-pool(b3) to b4's size, b4] (the block skips) -> global avg pool -> FC (layer 18)

    sub-block: conv3x3 -> synapse -> dropout -> conv3x3 -> (+ shortcut) -> synapse
    (shortcut: identity, or a 1x1 stride-2 conv when the shape changes, as in ResNet18)

Every "synapse" is an :class:`~spykeflow.layers.sts.STSSynapse` (threshold activation with LIF
memory); the input synapse turns any input (grey, colour, binary) into spikes; convolutions are
time-folded (:class:`~spykeflow.layers.time_fold.TimeFolded`: one conv on all N*T frames).

Hyper-parameters shared by both (``Classifier(backend="sts_convsnn", backend_params={...})``):

=================  ========================  ===================================================
name               default                   meaning
=================  ========================  ===================================================
``threshold``      0.5                       firing threshold (paper 0.5)
``beta``           0.5                       membrane decay (the paper's alpha, 0.5)
``rest``           False                     rest mechanism in the SNN phase (paper: off)
``slope``          0.01                      shifted leaky-ReLU slope (the paper's beta)
``surrogate``      gaussian, sigma 1/6       surrogate derivative (name or config dict)
``switch_epoch``   None                      pre-training epochs; None = half of ``epochs``;
                                             0 = plain BPTT with spikes from the start
``loss``           ``"mse"``                 ``"mse"``: mean squared error between the fire rates
                                             and one-hot targets (paper); ``"crossentropy"``:
                                             softmax cross-entropy of ``logit_scale * rate``
``logit_scale``    10.0                      rate -> logit factor of ``"crossentropy"``
``input_scale``    None                      factor applied to the inputs; None: 1/255 for uint8
                                             inputs at ``fit``, else 1
=================  ========================  ===================================================

``sts_convsnn`` adds ``filters`` ((48, 48)), ``kernel_size`` (3), ``pool`` (2),
``pooling`` (``"avg"``/``"max"``); ``sts_resnet`` adds ``base_width`` (16), ``dropout`` (0.2),
``input_synapse`` (True).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

from .._validation import check_bool, check_float, check_in, check_int, check_int_list
from ..functional import surrogate as S
from ..layers.sts import (
    DEFAULT_SURROGATE,
    STSConv2D,
    STSDense,
    STSSwitch,
    STSSynapse,
    get_mode,
    set_mode,
)
from ..layers.time_fold import TimeFolded
from .base import KerasBackend

__all__ = ["STSConvSNN", "STSResNet", "RateMSE", "RateCrossEntropy", "LOSSES"]

logger = logging.getLogger("spykeflow.sts")

#: Values of ``loss``.
LOSSES = ("mse", "crossentropy")


@keras.saving.register_keras_serializable(package="spykeflow")
class RateMSE(keras.losses.Loss):
    """Mean squared error between fire rates ``(N, K)`` and one-hot integer labels (paper)."""

    def __init__(self, name: str = "rate_mse", **kwargs: Any) -> None:
        super().__init__(name=name, **kwargs)

    def call(self, y_true, y_pred):
        target = keras.ops.one_hot(keras.ops.cast(keras.ops.reshape(y_true, (-1,)), "int32"),
                                   keras.ops.shape(y_pred)[-1])
        return keras.ops.mean(keras.ops.square(y_pred - target), axis=-1)


@keras.saving.register_keras_serializable(package="spykeflow")
class RateCrossEntropy(keras.losses.Loss):
    """Softmax cross-entropy of ``scale * rate`` with integer labels."""

    def __init__(self, scale: float = 10.0, name: str = "rate_crossentropy",
                 **kwargs: Any) -> None:
        super().__init__(name=name, **kwargs)
        self.scale = float(scale)

    def call(self, y_true, y_pred):
        return keras.losses.sparse_categorical_crossentropy(
            y_true, self.scale * y_pred, from_logits=True)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


class _STSBackend(KerasBackend):
    """Shared parameters, input handling, loss and the STS switch."""

    input_kind = "sequence"
    #: The switch callback of the last ``fit`` (its ``switched_at`` and ``snn_epochs``).
    _switch: STSSwitch | None = None

    def _common(self, threshold: Any, beta: Any, rest: Any, slope: Any, surrogate: Any,
                switch_epoch: Any, loss: Any, logit_scale: Any,
                input_scale: Any) -> dict[str, Any]:
        """The validated parameters shared by both models (see the module docstring)."""
        return {
            "threshold": check_float(threshold, "threshold", low=0.0, low_open=True),
            "beta": check_float(beta, "beta", 0.0, 1.0),
            "rest": check_bool(rest, "rest"),
            "slope": check_float(slope, "slope", 0.0, 1.0),
            "surrogate": S.get(surrogate).get_config(),
            # None: half of the epochs (STSSwitch)
            "switch_epoch": check_int(switch_epoch, "switch_epoch", minimum=0, allow_none=True),
            "loss": check_in(loss, "loss", LOSSES),
            "logit_scale": check_float(logit_scale, "logit_scale", low=0.0, low_open=True),
            "input_scale": check_float(input_scale, "input_scale", low=0.0, low_open=True,
                                       allow_none=True),
        }

    # -- contract ---------------------------------------------------------------------------
    def check_input(self, x: Any) -> None:
        x = np.asarray(x) if not hasattr(x, "ndim") else x
        if x.ndim not in (4, 5):
            raise ValueError(
                f"Backend {self.name!r} expects frame clips (N, T, H, W) or (N, T, H, W, C) with "
                f"time on axis 1. Received: shape={tuple(x.shape)}. Stack the frames of each "
                "sample along axis 1 (spykeflow.datasets.load('sequences') gives (N, 10, 28, 28))."
            )
        if x.shape[1] < 1:
            raise ValueError(
                f"Backend {self.name!r} expects at least one time step (axis 1). "
                f"Received: shape={tuple(x.shape)}."
            )
        if self.params["input_scale"] is None:
            self.params["input_scale"] = 1.0 / 255.0 if x.dtype == np.uint8 else 1.0

    def loss(self) -> Any:
        if self.params["loss"] == "mse":
            return RateMSE()
        return RateCrossEntropy(self.params["logit_scale"])

    def callbacks(self) -> list:
        self._switch = STSSwitch(self.params["switch_epoch"])
        return [self._switch]

    def after_fit(self, model: Any, x: Any, y: Any, seed: int) -> None:
        # Restoring the best epoch's weights restores the mode variables too; a best epoch from
        # the ANN phase would leave a non-spiking model. The deliverable is the SNN.
        if self._switch is not None and self._switch.switched_at is not None \
                and get_mode(model) != "snn":
            logger.warning(
                "%s: the best epoch was in the ANN pre-training phase; switching the restored "
                "weights to the spiking mode (use restore_best=False or more SNN epochs)",
                self.name)
            set_mode(model, "snn")

    # -- helpers ----------------------------------------------------------------------------
    def _neuron(self):
        p = self.params
        return dict(threshold=p["threshold"], beta=p["beta"], rest=p["rest"], slope=p["slope"],
                    surrogate=p["surrogate"])

    def _inputs(self, input_shape):
        input_shape = tuple(int(s) for s in input_shape)
        if len(input_shape) not in (3, 4):
            raise ValueError(
                f"Backend {self.name!r} expects clips (T, H, W) or (T, H, W, C) per sample. "
                f"Received: input_shape={input_shape}."
            )
        inp = keras.Input(shape=input_shape, name="frames")
        x = inp
        if len(input_shape) == 3:
            x = keras.layers.Reshape(input_shape + (1,), name="add_channel")(x)
        scale = self.params["input_scale"]
        if scale is not None and scale != 1.0:
            x = keras.layers.Rescaling(scale, name="input_scale")(x)
        return inp, x

    def _output(self, h, n_classes, init):
        n_classes = int(n_classes)
        if n_classes < 2:
            raise ValueError(f"Expected n_classes >= 2. Received: n_classes={n_classes}.")
        # The paper keeps the step function in the output layer during pre-training.
        return STSDense(n_classes, return_sequences=False, readout="mean", ann_activation="spike",
                        kernel_initializer=init(), name="output", **self._neuron())(h)


def _seeded(seed):
    seeds = iter(range(int(seed) * 1000, int(seed) * 1000 + 1000))

    def init():
        return keras.initializers.GlorotUniform(seed=next(seeds))

    return init, seeds


class STSConvSNN(_STSBackend):
    """The shallow spatio-temporal ConvSNN of Table 1 ("48-48"); see the module docstring."""

    name = "sts_convsnn"

    def __init__(
        self,
        filters: int | Sequence[int] = (48, 48),
        kernel_size: int = 3,
        pool: int = 2,
        pooling: str = "avg",
        threshold: float = 0.5,
        beta: float = 0.5,
        rest: bool = False,
        slope: float = 0.01,
        surrogate: str | dict = DEFAULT_SURROGATE,
        switch_epoch: int | None = None,
        loss: str = "mse",
        logit_scale: float = 10.0,
        input_scale: float | None = None,
    ) -> None:
        self.params = {
            "filters": check_int_list(filters, "filters"),
            "kernel_size": check_int(kernel_size, "kernel_size"),
            "pool": check_int(pool, "pool"),
            "pooling": check_in(pooling, "pooling", ("avg", "max")),
            **self._common(threshold, beta, rest, slope, surrogate, switch_epoch, loss,
                           logit_scale, input_scale),
        }

    def build_model(self, input_shape: tuple, n_classes: int, seed: int) -> keras.Model:
        """Uncompiled model: clips ``(batch,) + input_shape`` -> fire rates
        ``(batch, n_classes)``."""
        p = self.params
        init, _ = _seeded(seed)
        inp, h = self._inputs(input_shape)
        pool_cls = (keras.layers.AveragePooling2D if p["pooling"] == "avg"
                    else keras.layers.MaxPooling2D)
        for k, filters in enumerate(p["filters"]):
            h = STSConv2D(filters, p["kernel_size"], padding="same", kernel_initializer=init(),
                          name=f"conv{k + 1}", **self._neuron())(h)
            if p["pool"] > 1 and min(h.shape[2:4]) >= p["pool"]:
                h = TimeFolded(pool_cls(p["pool"]), name=f"pool{k + 1}")(h)
        h = TimeFolded(keras.layers.Flatten(), name="flatten")(h)
        out = self._output(h, n_classes, init)
        return keras.Model(inp, out, name="sts_convsnn")


class STSResNet(_STSBackend):
    """The 18-layer STS-ResNet of section 4.2; see the module docstring."""

    name = "sts_resnet"

    def __init__(
        self,
        base_width: int = 16,
        dropout: float = 0.2,
        input_synapse: bool = True,
        threshold: float = 0.5,
        beta: float = 0.5,
        rest: bool = False,
        slope: float = 0.01,
        surrogate: str | dict = DEFAULT_SURROGATE,
        switch_epoch: int | None = None,
        loss: str = "mse",
        logit_scale: float = 10.0,
        input_scale: float | None = None,
    ) -> None:
        self.params = {
            "base_width": check_int(base_width, "base_width"),
            "dropout": check_float(dropout, "dropout", 0.0, 1.0, high_open=True),
            "input_synapse": check_bool(input_synapse, "input_synapse"),
            **self._common(threshold, beta, rest, slope, surrogate, switch_epoch, loss,
                           logit_scale, input_scale),
        }

    def build_model(self, input_shape: tuple, n_classes: int, seed: int) -> keras.Model:
        """Uncompiled model: clips ``(batch,) + input_shape`` -> fire rates
        ``(batch, n_classes)``."""
        p = self.params
        init, seeds = _seeded(seed)
        w = p["base_width"]
        names = iter(range(1, 100))

        def conv(filters, kernel, strides, name):
            return TimeFolded(
                keras.layers.Conv2D(filters, kernel, strides=strides, padding="same",
                                    kernel_initializer=init()), name=name)

        def synapse(name):
            return STSSynapse(name=name, **self._neuron())

        def sub_block(x, filters, strides, tag):
            k = next(names)
            h = conv(filters, 3, strides, f"conv{k}_{tag}")(x)
            h = synapse(f"syn{k}_{tag}")(h)
            if p["dropout"] > 0:
                shape = (None, 1) + tuple(h.shape[2:])  # one mask per sample, shared over time
                h = keras.layers.Dropout(p["dropout"], noise_shape=shape, seed=next(seeds),
                                         name=f"drop_{tag}")(h)
            k = next(names)
            h = conv(filters, 3, 1, f"conv{k}_{tag}")(h)
            if strides != 1 or x.shape[-1] != filters:
                x = conv(filters, 1, strides, f"shortcut_{tag}")(x)
            h = keras.layers.Add(name=f"add_{tag}")([h, x])
            return synapse(f"syn{k}_{tag}")(h)

        inp, h = self._inputs(input_shape)
        if p["input_synapse"]:
            h = synapse("input_synapse")(h)
        k = next(names)
        h = synapse(f"syn{k}_stem")(conv(w, 3, 1, f"conv{k}_stem")(h))
        outs = []
        for b, (mult, strides) in enumerate(((1, 1), (2, 2), (4, 2), (8, 2)), start=1):
            h = sub_block(h, mult * w, strides, f"b{b}s1")
            h = sub_block(h, mult * w, 1, f"b{b}s2")
            outs.append(h)
        b3, b4 = outs[2], outs[3]
        factor = int(np.ceil(b3.shape[2] / b4.shape[2]))
        if factor > 1:
            b3 = TimeFolded(
                keras.layers.AveragePooling2D(factor, padding="same"), name="skip_pool_b3")(b3)
        h = keras.layers.Concatenate(axis=-1, name="block_skips")([b3, b4])
        h = TimeFolded(keras.layers.GlobalAveragePooling2D(), name="avg_pool")(h)
        out = self._output(h, n_classes, init)
        return keras.Model(inp, out, name="sts_resnet")
