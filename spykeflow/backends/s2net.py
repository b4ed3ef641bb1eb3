"""The s2net backend: convolutional spiking layers with lateral connections over (time, features).

Zimmer et al. (section 6.1.2): a stack of s2net convolutional spiking layers whose kernels span
``H`` steps of time and ``W`` feature bins (e.g. Mel bands), with per-layer dilations, followed by
the time-averaged readout. Inputs are sequences ``(N, T, F, C)`` -- e.g. the log-Mel features of
:func:`spykeflow.functional.audio.log_mel_features` ``(N, T, 40, 3)`` -- or ``(N, T, F)`` (one
channel is added). The layer ``l`` of ``L`` gets the spike regulariser weight
``spike_regularization * l / L`` (the paper uses 0.1). Gradients of every weight are clipped to
``[-clipvalue, clipvalue]`` (the paper: 5) inside the layers (``gradient_clip``), so the clip
holds under any training loop; :meth:`S2NetBackend.optimizer_kwargs` gives the equivalent
optimizer setting for loops that prefer it.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_int
from .base import KerasBackend

__all__ = ["S2NetBackend"]

#: The paper's Table 6.2 (kernel (time, frequency), dilation (time, frequency)) per layer.
PAPER_LAYERS = (((4, 3), (1, 1)), ((4, 3), (4, 3)), ((4, 3), (16, 9)))


def _pairs(value, name, n_layers):
    out = []
    for v in value:
        if isinstance(v, int) and not isinstance(v, bool):
            v = (v, v)
        v = tuple(v)
        if len(v) != 2 or not all(isinstance(a, int) and not isinstance(a, bool) and a >= 1
                                   for a in v):
            raise ValueError(
                f"Expected {name} as a list of (time, feature) pairs of ints >= 1, one per layer. "
                f"Received: {name}={value!r}."
            )
        out.append(list(v))
    if len(out) != n_layers:
        raise ValueError(
            f"Expected {n_layers} entries in {name} (one per layer of channels). "
            f"Received: {len(out)}."
        )
    return out


class S2NetBackend(KerasBackend):
    """s2net convolutional SNN for sequences ``(N, T, F[, C])``.

    Parameters
    ----------
    channels : sequence of int
        Output channels per spiking convolutional layer (paper: 64, 64, 64).
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
    surrogate_scale : float > 0
        Scale of the sigmoid surrogate (paper: 10).
    spike_regularization : float >= 0
        ``lambda`` in ``lambda * l / L * 1/2 mean(S_l^2)`` for layer ``l`` of ``L``.
    clipvalue : float > 0 or None
        Element-wise gradient clipping bound of every weight (paper: 5), applied in the layers.
    """

    name = "s2net"
    input_kind = "sequence"

    def __init__(
        self,
        channels=(32, 32, 32),
        kernel_sizes=tuple(k for k, _ in PAPER_LAYERS),
        dilations=tuple(d for _, d in PAPER_LAYERS),
        padding="valid",
        lateral=True,
        recurrent=False,
        beta=0.7,
        threshold=1.0,
        surrogate_scale=10.0,
        spike_regularization=0.1,
        clipvalue=5.0,
    ):
        channels = [check_int(c, "channels") for c in channels]
        if not channels:
            raise ValueError("Expected at least one layer in channels. Received: channels=().")
        kernel_sizes = _pairs(kernel_sizes, "kernel_sizes", len(channels))
        dilations = _pairs(dilations, "dilations", len(channels))
        if padding not in ("valid", "same"):
            raise ValueError(f"Expected padding 'valid' or 'same'. Received: padding={padding!r}.")
        for name, value in (("lateral", lateral), ("recurrent", recurrent)):
            if not isinstance(value, bool):
                raise TypeError(f"Expected a bool for {name}. Received: {name}={value!r}.")
        if not 0.0 <= float(beta) <= 1.0:
            raise ValueError(f"Expected beta in [0, 1]. Received: beta={beta!r}.")
        if float(threshold) < 0:
            raise ValueError(f"Expected threshold >= 0. Received: threshold={threshold!r}.")
        if not float(surrogate_scale) > 0:
            raise ValueError(
                f"Expected surrogate_scale > 0. Received: surrogate_scale={surrogate_scale!r}."
            )
        if float(spike_regularization) < 0:
            raise ValueError(
                "Expected spike_regularization >= 0. "
                f"Received: spike_regularization={spike_regularization!r}."
            )
        if clipvalue is not None and not float(clipvalue) > 0:
            raise ValueError(
                f"Expected clipvalue > 0 or None. Received: clipvalue={clipvalue!r}."
            )
        super().__init__(
            channels=channels,
            kernel_sizes=kernel_sizes,
            dilations=dilations,
            padding=padding,
            lateral=lateral,
            recurrent=recurrent,
            beta=float(beta),
            threshold=float(threshold),
            surrogate_scale=float(surrogate_scale),
            spike_regularization=float(spike_regularization),
            clipvalue=None if clipvalue is None else float(clipvalue),
        )

    def check_input(self, x: np.ndarray) -> None:
        super().check_input(x)
        if x.ndim not in (3, 4):
            raise ValueError(
                f"Backend 's2net' expects sequences (N, T, F) or (N, T, F, C). "
                f"Received: shape={x.shape}."
            )

    def build_model(self, input_shape, n_classes, seed):
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
        n_layers = len(p["channels"])
        for i, (c, k, d) in enumerate(zip(p["channels"], p["kernel_sizes"], p["dilations"])):
            x = S2NetConv1D(
                c,
                tuple(k),
                dilation_rate=tuple(d),
                padding=p["padding"],
                lateral=p["lateral"],
                recurrent=p["recurrent"],
                beta=p["beta"],
                threshold=p["threshold"],
                surrogate="sigmoid",
                surrogate_params={"scale": p["surrogate_scale"]},
                spike_regularization=p["spike_regularization"] * (i + 1) / n_layers,
                gradient_clip=p["clipvalue"],
                seed=int(seed) * 1000 + 10 * i,
                name=f"s2net_conv{i + 1}",
            )(x)
        logits = S2NetReadout(n_classes, gradient_clip=p["clipvalue"],
                              seed=int(seed) * 1000 + 999, name="readout")(x)
        return keras.Model(inputs, logits, name="s2net")

    def optimizer_kwargs(self) -> dict:
        """Keyword arguments for the Keras optimizer: gradient clipping to ``[-5, 5]``."""
        clip = self.params["clipvalue"]
        return {} if clip is None else {"clipvalue": clip}

    @staticmethod
    def spiking_layers(model):
        """The s2net spiking layers of ``model``, input to output."""
        from ..layers.s2net import SPIKING_LAYERS

        return [layer for layer in model.layers if isinstance(layer, SPIKING_LAYERS)]

    def spike_model(self, model):
        """A model mapping inputs to the spike trains of every spiking layer."""
        import keras

        layers = self.spiking_layers(model)
        return keras.Model(model.input, [layer.output for layer in layers])

    def firing_rates(self, model, x, batch_size=64, dt=0.01):
        """Mean firing rate in Hz of each spiking layer on ``x`` (time step ``dt`` seconds).

        Returns a dict ``layer name -> Hz`` (spikes per neuron per second, averaged over
        neurons, time steps and samples).
        """
        layers = self.spiking_layers(model)
        sub = self.spike_model(model)
        totals = np.zeros(len(layers))
        for start in range(0, len(x), batch_size):
            batch = x[start:start + batch_size]
            outs = sub(batch, training=False)
            if len(layers) == 1:
                outs = [outs]
            totals += [len(batch) * float(np.mean(np.asarray(o))) for o in outs]
        totals /= len(x)
        return {layer.name: float(r) / dt for layer, r in zip(layers, totals)}
