"""ANN baselines for frame sequences (Samadzadeh et al., Table 1): CNN on stacked frames,
CNN+LSTM, ConvLSTM and C3D, as Classifier backends.

Inputs are clips ``(N, T, H, W)`` or ``(N, T, H, W, C)`` (time on axis 1, as every sequence in
SpykeFlow). The paper's configuration is "256-256": two convolutional stages of 256 filters
(plus a 256-unit LSTM for CNN+LSTM); ``filters`` makes the width configurable so the models
fit a CPU budget. Every model ends in a dense layer producing logits.

How each model sees time (section 5.1):

* ``cnn``      -- frames concatenated along channels: one 2-D CNN sees the whole clip at once;
* ``c3d``      -- 3-D convolutions over (time, height, width);
* ``cnn_lstm`` -- the same 2-D CNN applied to every frame, an LSTM over the frame features;
* ``convlstm`` -- two ConvLSTM2D layers over the frame sequence.

The paper trained with Adam and a mean-squared error on one-hot targets (binary
cross-entropy for ConvLSTM); here the loss is softmax cross-entropy by default and
``loss="mse"`` restores the paper's choice.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras

from .._validation import check_float, check_in, check_int, check_int_tuple
from ..layers.time_fold import TimeFolded
from .base import KerasBackend

__all__ = ["SequenceANNBackend", "CNNStack", "CNNLSTM", "ConvLSTM", "C3D"]

#: Values of ``loss``.
LOSSES = ("crossentropy", "mse")


class _OneHotMSE(keras.losses.Loss):
    """Mean squared error between softmax(logits) and one-hot integer labels."""

    def __init__(self, name: str = "onehot_mse", **kwargs: Any) -> None:
        super().__init__(name=name, **kwargs)

    def call(self, y_true, y_pred):
        probs = keras.ops.softmax(y_pred, axis=-1)
        target = keras.ops.one_hot(keras.ops.cast(keras.ops.reshape(y_true, (-1,)), "int32"),
                                   keras.ops.shape(y_pred)[-1])
        return keras.ops.mean(keras.ops.square(probs - target), axis=-1)


class SequenceANNBackend(KerasBackend):
    """Base of the four ANN sequence baselines.

    Parameters
    ----------
    filters : int or (int, int), default (256, 256)
        Filters of the two convolutional stages (the paper's "256-256").
    kernel_size : int, default 3
    lstm_units : int, default 256
        Units of the LSTM (CNN+LSTM only).
    dropout : float, default 0.0
        Dropout before the output layer.
    loss : {"crossentropy", "mse"}
    """

    input_kind = "sequence"

    def __init__(self, filters: int | Sequence[int] = (256, 256), kernel_size: int = 3,
                 lstm_units: int = 256, dropout: float = 0.0, loss: str = "crossentropy") -> None:
        self.params = {
            "filters": list(check_int_tuple(filters, "filters", 2)),
            "kernel_size": check_int(kernel_size, "kernel_size"),
            "lstm_units": check_int(lstm_units, "lstm_units"),
            "dropout": check_float(dropout, "dropout", 0.0, 1.0, high_open=True),
            "loss": check_in(loss, "loss", LOSSES),
        }

    def loss(self) -> Any:
        if self.params["loss"] == "mse":
            return _OneHotMSE()
        return super().loss()

    def build_model(self, input_shape: tuple, n_classes: int, seed: int) -> keras.Model:
        input_shape = tuple(int(d) for d in input_shape)
        if len(input_shape) not in (3, 4):
            raise ValueError(
                f"{type(self).__name__} expects clips (T, H, W) or (T, H, W, C) per sample. "
                f"Received: input_shape={input_shape}."
            )
        inputs = keras.Input(input_shape)
        x = inputs if len(input_shape) == 4 else keras.layers.Reshape(input_shape + (1,))(inputs)
        init = keras.initializers.GlorotUniform(seed=seed)
        x = self._body(x, init, seed)
        if self.params["dropout"]:
            x = keras.layers.Dropout(self.params["dropout"], seed=seed)(x)
        outputs = keras.layers.Dense(n_classes, kernel_initializer=init, name="logits")(x)
        return keras.Model(inputs, outputs, name=self.name)

    def _conv2d(self, filters, init):
        return keras.layers.Conv2D(filters, self.params["kernel_size"], padding="same",
                                   activation="relu", kernel_initializer=init)

    def _cnn_stages(self, x, init, time_distributed=False):
        for filters in self.params["filters"]:
            conv, pool = self._conv2d(filters, init), keras.layers.MaxPooling2D(2)
            if time_distributed:
                conv, pool = TimeFolded(conv), TimeFolded(pool)
            x = pool(conv(x))
        return x

    def _body(self, x, init, seed):  # pragma: no cover - abstract
        raise NotImplementedError


class CNNStack(SequenceANNBackend):
    """2-D CNN on the frames stacked along the channel axis (no notion of time order beyond
    which channel holds which frame)."""

    name = "seq_cnn"

    def _body(self, x, init, seed):
        t, h, w, c = x.shape[1:]
        x = keras.layers.Permute((2, 3, 1, 4))(x)          # (H, W, T, C)
        x = keras.layers.Reshape((h, w, t * c))(x)          # frames as channels
        return keras.layers.Flatten()(self._cnn_stages(x, init))


class CNNLSTM(SequenceANNBackend):
    """The 2-D CNN applied to every frame, then an LSTM over the per-frame features."""

    name = "seq_cnn_lstm"

    def _body(self, x, init, seed):
        x = self._cnn_stages(x, init, time_distributed=True)
        x = TimeFolded(keras.layers.Flatten())(x)
        return keras.layers.LSTM(self.params["lstm_units"], kernel_initializer=init,
                                 recurrent_initializer=keras.initializers.Orthogonal(seed=seed))(x)


class ConvLSTM(SequenceANNBackend):
    """Two ConvLSTM2D layers over the frames, then spatial pooling."""

    name = "seq_convlstm"

    def _body(self, x, init, seed):
        f1, f2 = self.params["filters"]
        k = self.params["kernel_size"]
        rec = keras.initializers.Orthogonal(seed=seed)
        x = keras.layers.ConvLSTM2D(f1, k, padding="same", return_sequences=True,
                                    kernel_initializer=init, recurrent_initializer=rec)(x)
        x = TimeFolded(keras.layers.MaxPooling2D(2))(x)
        x = keras.layers.ConvLSTM2D(f2, k, padding="same", kernel_initializer=init,
                                    recurrent_initializer=rec)(x)
        x = keras.layers.MaxPooling2D(2)(x)
        return keras.layers.Flatten()(x)


class C3D(SequenceANNBackend):
    """3-D convolutions over (time, height, width)."""

    name = "seq_c3d"

    def _body(self, x, init, seed):
        k = self.params["kernel_size"]
        for i, filters in enumerate(self.params["filters"]):
            x = keras.layers.Conv3D(filters, k, padding="same", activation="relu",
                                    kernel_initializer=init)(x)
            x = keras.layers.MaxPooling3D((1, 2, 2) if i == 0 else (2, 2, 2))(x)
        return keras.layers.Flatten()(x)
