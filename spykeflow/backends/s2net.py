"""The s2net backend: convolutional spiking layers with lateral connections over (time, features).

Zimmer et al. (section 6.1.2): a stack of s2net convolutional spiking layers whose kernels span
``H`` steps of time and ``W`` feature bins (e.g. Mel bands), with per-layer dilations, followed by
the time-averaged readout. Inputs are sequences ``(N, T, F, C)`` -- e.g. the log-Mel features of
:func:`spykeflow.functional.audio.log_mel_features` ``(N, T, 40, 3)`` -- or ``(N, T, F)`` (one
channel is added). The layer ``l`` of ``L`` gets the spike regulariser weight
``spike_regularization * l / L`` (the paper uses 0.1). Gradients of every weight are clipped to
``[-gradient_clip, gradient_clip]`` (the paper: 5) inside the layers, so the clip holds under
any training loop; :meth:`S2NetBackend.optimizer_kwargs` gives the equivalent optimizer setting
for loops that prefer it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .._validation import check_bool, check_float, check_in, check_int_list, check_int_tuple
from ..functional import surrogate as S
from .base import KerasBackend

__all__ = ["S2NetBackend", "PAPER_KERNEL_SIZES", "PAPER_DILATIONS"]

#: The paper's Table 6.2: kernel (time, frequency) of each layer ...
PAPER_KERNEL_SIZES = ((4, 3), (4, 3), (4, 3))
#: ... and dilation (time, frequency) of each layer.
PAPER_DILATIONS = ((1, 1), (4, 3), (16, 9))


def _pairs(value: Any, name: str, n_layers: int) -> list[list[int]]:
    """One (time, feature) pair of ints >= 1 per layer (an int ``k`` stands for ``(k, k)``)."""
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__"):
        raise ValueError(f"Expected {name} as a list of (time, feature) pairs, one per layer. "
                         f"Received: {name}={value!r}.")
    if len(value) != n_layers:
        raise ValueError(
            f"Expected {n_layers} entries in {name} (one per layer of filters). "
            f"Received: {len(value)}."
        )
    return [list(check_int_tuple(v, name, 2)) for v in value]


class S2NetBackend(KerasBackend):
    """s2net convolutional SNN for sequences ``(N, T, F[, C])``.

    Parameters
    ----------
    filters : int or sequence of int
        Filters (output channels) of each spiking convolutional layer (paper: 64, 64, 64).
    kernel_sizes, dilations : sequence of (time, feature) pairs
        One per layer (paper, Table 6.2: kernels (4, 3), dilations (1, 1), (4, 3), (16, 9)).
    padding : {"valid", "same"}
        Padding of the feature axis (time is always causal).
    lateral, recurrent : bool
        Denève lateral reset between the channels of a position; local recurrent weights.
    beta : float in [0, 1]
        Initial membrane decay (trainable, clipped to [0, 1]).
    threshold : float >= 0
        Initial relative threshold ``b`` (trainable, >= 0).
    surrogate : str or dict
        Surrogate name or config (paper: ``"sigmoid"``, whose default scale is the paper's 10;
        ``{"name": "sigmoid", "scale": 5.0}`` changes it).
    spike_regularization : float >= 0
        ``lambda`` in ``lambda * l / L * 1/2 mean(S_l^2)`` for layer ``l`` of ``L``.
    gradient_clip : float > 0 or None
        Element-wise gradient clipping bound of every weight (paper: 5), applied in the layers.
    """

    name = "s2net"
    input_kind = "sequence"

    def __init__(
        self,
        filters: int | Sequence[int] = (32, 32, 32),
        kernel_sizes: Sequence[int | Sequence[int]] = PAPER_KERNEL_SIZES,
        dilations: Sequence[int | Sequence[int]] = PAPER_DILATIONS,
        padding: str = "valid",
        lateral: bool = True,
        recurrent: bool = False,
        beta: float = 0.7,
        threshold: float = 1.0,
        surrogate: str | dict = "sigmoid",
        spike_regularization: float = 0.1,
        gradient_clip: float | None = 5.0,
    ) -> None:
        filters = check_int_list(filters, "filters")
        self.params = {
            "filters": filters,
            "kernel_sizes": _pairs(kernel_sizes, "kernel_sizes", len(filters)),
            "dilations": _pairs(dilations, "dilations", len(filters)),
            "padding": check_in(padding, "padding", ("valid", "same")),
            "lateral": check_bool(lateral, "lateral"),
            "recurrent": check_bool(recurrent, "recurrent"),
            "beta": check_float(beta, "beta", 0.0, 1.0),
            "threshold": check_float(threshold, "threshold", low=0.0),
            "surrogate": S.get(surrogate).get_config(),
            "spike_regularization": check_float(spike_regularization, "spike_regularization",
                                                low=0.0),
            "gradient_clip": check_float(gradient_clip, "gradient_clip", low=0.0, low_open=True,
                                         allow_none=True),
        }

    def check_input(self, x: np.ndarray) -> None:
        super().check_input(x)
        if x.ndim not in (3, 4):
            raise ValueError(
                f"Backend 's2net' expects sequences (N, T, F) or (N, T, F, C). "
                f"Received: shape={x.shape}."
            )

    def build_model(self, input_shape: tuple, n_classes: int, seed: int) -> Any:
        import keras

        from ..layers.s2net import S2NetConv1D, S2NetReadout

        input_shape = tuple(int(d) for d in input_shape)
        if len(input_shape) not in (2, 3):
            raise ValueError(
                "Expected input_shape (T, F) or (T, F, C) without the batch axis. "
                f"Received: input_shape={input_shape}."
            )
        p = self.params
        inputs = keras.Input(shape=input_shape, name="features")
        x = inputs
        if len(input_shape) == 2:
            x = keras.layers.Reshape(input_shape + (1,), name="add_channel")(x)
        n_layers = len(p["filters"])
        for i, (f, k, d) in enumerate(zip(p["filters"], p["kernel_sizes"], p["dilations"])):
            x = S2NetConv1D(
                f,
                tuple(k),
                dilation_rate=tuple(d),
                padding=p["padding"],
                lateral=p["lateral"],
                recurrent=p["recurrent"],
                beta=p["beta"],
                threshold=p["threshold"],
                surrogate=p["surrogate"],
                spike_regularization=p["spike_regularization"] * (i + 1) / n_layers,
                gradient_clip=p["gradient_clip"],
                seed=int(seed) * 1000 + 10 * i,
                name=f"s2net_conv{i + 1}",
            )(x)
        logits = S2NetReadout(n_classes, gradient_clip=p["gradient_clip"],
                              seed=int(seed) * 1000 + 999, name="readout")(x)
        return keras.Model(inputs, logits, name="s2net")

    def optimizer_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for a Keras optimizer with the same clipping as ``gradient_clip``
        (Keras' ``clipvalue``)."""
        clip = self.params["gradient_clip"]
        return {} if clip is None else {"clipvalue": clip}

    @staticmethod
    def spiking_layers(model: Any) -> list:
        """The s2net spiking layers of ``model``, input to output."""
        from ..layers.s2net import SPIKING_LAYERS

        return [layer for layer in model.layers if isinstance(layer, SPIKING_LAYERS)]

    def spike_model(self, model: Any) -> Any:
        """A model mapping inputs to the spike trains of every spiking layer."""
        import keras

        layers = self.spiking_layers(model)
        return keras.Model(model.input, [layer.output for layer in layers])

    def firing_rates(self, model: Any, x: Any, batch_size: int = 64,
                     dt: float = 0.01) -> dict[str, float]:
        """Mean firing rate in Hz of each spiking layer on ``x`` (time step ``dt`` seconds).

        Returns a dict ``layer name -> Hz`` (spikes per neuron per second, averaged over
        neurons, time steps and samples).
        """
        from keras import ops

        layers = self.spiking_layers(model)
        sub = self.spike_model(model)
        totals = np.zeros(len(layers))
        for start in range(0, len(x), batch_size):
            batch = x[start:start + batch_size]
            outs = sub(batch, training=False)
            if len(layers) == 1:
                outs = [outs]
            totals += [len(batch) * float(np.mean(ops.convert_to_numpy(o))) for o in outs]
        totals /= len(x)
        return {layer.name: float(r) / dt for layer, r in zip(layers, totals)}
