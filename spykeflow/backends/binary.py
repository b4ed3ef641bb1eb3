"""The binary-activation readout of SpykeFlow (``"binary"``) and its ReLU baseline (``"relu"``).

Model (the original classifier, ``docs/original/readout.md``)::

    x (N, F) -> [BinaryDense: z = xW + b; dropout; a = 1[z >= 0]] x len(hidden)
             -> Dense(K) -> FloorLogits -> softmax cross-entropy

The hidden step's derivative is a surrogate from :mod:`spykeflow.functional.surrogate`
(``"sg1"``: box window ``[0, 0.125]`` inclusive, the paper's surrogate gradient 1; ``"sg2"``:
``g = a``, surrogate gradient 2). The floor passes gradients straight through. Weights start
from a truncated normal with std 0.01 (cut at 2 std), biases at 0
(``docs/original/readout.md#parameters``).

``"relu"`` is the "actual gradient" baseline: ReLU hidden units, no floor, softmax
cross-entropy (the original's EMNIST notebooks) or, with ``loss="quadratic"``, the MNIST
notebooks' ReLU output with quadratic cost whose delta omits ReLU' (``relu_output_grad=False``;
``docs/original/readout.md#actual-gradient-baseline``).
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import ops

from .._validation import check_bool, check_float, check_in, check_int_list
from ..functional import surrogate as _surrogate
from ..layers.binary import (
    DROPOUT_MODES,
    INPUT_MODES,
    BinaryDense,
    FloorLogits,
    StraightThroughReLU,
)
from .base import KerasBackend

__all__ = ["BinaryReadout", "ReluReadout", "QuadraticCost"]

#: Values of :class:`ReluReadout`'s ``loss``.
RELU_LOSSES = ("crossentropy", "quadratic")


@keras.saving.register_keras_serializable(package="spykeflow")
class QuadraticCost(keras.losses.Loss):
    """``C = 1/2 sum_k (a_k - onehot(y)_k)^2`` averaged over the batch (integer labels).

    With a straight-through ReLU output its delta is ``a - y`` (the MNIST notebooks).
    """

    def __init__(self, name: str = "quadratic_cost",
                 reduction: str = "sum_over_batch_size") -> None:
        super().__init__(name=name, reduction=reduction)

    def call(self, y_true, y_pred):
        y_true = ops.cast(ops.reshape(y_true, (-1,)), "int32")
        target = ops.one_hot(y_true, ops.shape(y_pred)[-1],
                             dtype=keras.backend.standardize_dtype(y_pred.dtype))
        return 0.5 * ops.sum(ops.square(y_pred - target), axis=-1)


class _DenseReadout(KerasBackend):
    """Shared hidden-layer validation and construction of the two dense readouts."""

    input_kind = "features"

    def _common(self, hidden: Any, dropout: Any, dropout_mode: Any, input_mode: Any,
                kernel_stddev: Any) -> dict[str, Any]:
        return {
            "hidden": check_int_list(hidden, "hidden"),
            "dropout": check_float(dropout, "dropout", 0, 1, high_open=True),
            "dropout_mode": check_in(dropout_mode, "dropout_mode", DROPOUT_MODES),
            "input_mode": check_in(input_mode, "input_mode", INPUT_MODES),
            "kernel_stddev": check_float(kernel_stddev, "kernel_stddev", low=0, low_open=True),
        }

    def compile_kwargs(self) -> dict[str, Any]:
        # The event path has data-dependent shapes (nonzero); XLA cannot compile it.
        return {"jit_compile": False}

    def predict_logits(self, model: Any, x: Any, batch_size: int, **options: Any) -> np.ndarray:
        if options:
            raise TypeError(
                f"Backend {self.name!r} takes no prediction options. Received: {sorted(options)}."
            )
        from ..training import predict_logits

        return predict_logits(model, x, batch_size)

    def _hidden_layers(self, seed, activation, surrogate):
        p = self.params
        layers = []
        for i, units in enumerate(p["hidden"]):
            layers.append(BinaryDense(
                units,
                activation=activation,
                surrogate=surrogate,
                dropout=p["dropout"],
                dropout_mode=p["dropout_mode"],
                input_mode=p["input_mode"] if i == 0 else "dense",
                kernel_stddev=p["kernel_stddev"],
                seed=seed + 101 * i,
                name=f"hidden_{i}",
            ))
        return layers

    def _output_dense(self, n_classes, seed):
        return keras.layers.Dense(
            n_classes,
            kernel_initializer=keras.initializers.TruncatedNormal(
                stddev=self.params["kernel_stddev"], seed=seed + 7),
            bias_initializer="zeros",
            name="output",
        )


class BinaryReadout(_DenseReadout):
    """Binary-activation readout trained with a surrogate gradient (``backend="binary"``).

    Parameters
    ----------
    hidden : int or list of int
        Hidden units per layer (the original: 1000 for MNIST, 1500 for EMNIST).
    surrogate : str or dict
        Surrogate name/config from :mod:`spykeflow.functional.surrogate` (``"sg1"`` default,
        ``"sg2"``, ``"gaussian"``, ...).
    surrogate_window : None or (lo, hi) or (lo, hi, inclusive)
        Shortcut for a box surrogate on ``[lo, hi]`` (e.g. ``(0, 0.25, True)`` for tau=0.25);
        overrides ``surrogate`` (``docs/original/readout.md#surrogate-gradients``).
    dropout : float in [0, 1)
        Drop probability of the hidden pre-activations (the original: 0.5).
    dropout_mode : {"force_off", "inverted"}
        ``"force_off"``: dropped ``z := -1``, no rescaling (the original); ``"inverted"``:
        standard dropout.
    floor : bool
        Floor the logits (straight-through gradient).
    floor_at_inference : bool
        Keep the floor when predicting (the original: yes).
    input_mode : {"dense", "event"}
        First layer as a dense matmul (default) or as a gather-sum over the active inputs
        (same values; the paper's "multiplication replaced by addition"). On the 2-core CPU
        of this project the TensorFlow gather/segment-sum kernels were about 3x slower per
        epoch than the oneDNN matmul for 3630-d features with ~104 active
        (``bench/bench_readout.py``), so ``"dense"`` is the default.
    kernel_stddev : float
        Truncated-normal init std (the original: 0.01).
    """

    name = "binary"

    def __init__(
        self,
        hidden: int | list[int] = 1000,
        surrogate: str | dict = "sg1",
        surrogate_window: tuple | list | None = None,
        dropout: float = 0.5,
        dropout_mode: str = "force_off",
        floor: bool = True,
        floor_at_inference: bool = True,
        input_mode: str = "dense",
        kernel_stddev: float = 0.01,
    ) -> None:
        common = self._common(hidden, dropout, dropout_mode, input_mode, kernel_stddev)
        if surrogate_window is not None:
            if not (isinstance(surrogate_window, (list, tuple))
                    and len(surrogate_window) in (2, 3)):
                raise ValueError(
                    "Expected surrogate_window=(lo, hi) or (lo, hi, inclusive). "
                    f"Received: surrogate_window={surrogate_window!r}."
                )
            inclusive = surrogate_window[2] if len(surrogate_window) == 3 else True
            surrogate_window = [check_float(surrogate_window[0], "surrogate_window[0]"),
                                check_float(surrogate_window[1], "surrogate_window[1]"),
                                check_bool(inclusive, "surrogate_window[2]")]
        if not isinstance(surrogate, str):
            surrogate = _surrogate.get(surrogate).get_config()  # JSON-serialisable config
        self.params = {
            "hidden": common["hidden"],
            "surrogate": surrogate,
            "surrogate_window": surrogate_window,
            "dropout": common["dropout"],
            "dropout_mode": common["dropout_mode"],
            "floor": check_bool(floor, "floor"),
            "floor_at_inference": check_bool(floor_at_inference, "floor_at_inference"),
            "input_mode": common["input_mode"],
            "kernel_stddev": common["kernel_stddev"],
        }
        self._spike()  # validates the surrogate name and parameters

    def _spike(self) -> _surrogate.Surrogate:
        window = self.params["surrogate_window"]
        if window is not None:
            lo, hi, inclusive = window
            return _surrogate.get("box", lo=lo, hi=hi, inclusive=inclusive)
        return _surrogate.get(self.params["surrogate"])

    def build_model(self, input_shape: tuple, n_classes: int, seed: int) -> keras.Model:
        spike = self._spike()
        inputs = keras.Input(shape=tuple(input_shape), name="features")
        h = inputs
        for layer in self._hidden_layers(seed, "spike", spike.get_config()):
            h = layer(h)
        logits = self._output_dense(n_classes, seed)(h)
        if self.params["floor"]:
            logits = FloorLogits(at_inference=self.params["floor_at_inference"],
                                 name="floor")(logits)
        return keras.Model(inputs, logits, name="binary_readout")


class ReluReadout(_DenseReadout):
    """The actual-gradient baseline (``backend="relu"``): ReLU hidden layer(s).

    Parameters
    ----------
    hidden, dropout, dropout_mode, input_mode, kernel_stddev
        As :class:`BinaryReadout` (the original: 900 hidden for MNIST, 1500 for EMNIST;
        dropout 0.5 applied as ``z := -1``, i.e. ReLU output 0, no rescaling).
    loss : {"crossentropy", "quadratic"}
        Softmax cross-entropy on linear logits (the EMNIST notebooks, default) or the MNIST
        notebooks' quadratic cost on a ReLU output.
    relu_output_grad : bool
        Quadratic cost only: include ``ReLU'(z3)`` in the output delta (``True``) or omit it
        like the notebooks (``False``, straight-through).
    """

    name = "relu"

    def __init__(
        self,
        hidden: int | list[int] = 900,
        dropout: float = 0.5,
        dropout_mode: str = "force_off",
        loss: str = "crossentropy",
        relu_output_grad: bool = False,
        input_mode: str = "dense",
        kernel_stddev: float = 0.01,
    ) -> None:
        common = self._common(hidden, dropout, dropout_mode, input_mode, kernel_stddev)
        self.params = {
            "hidden": common["hidden"],
            "dropout": common["dropout"],
            "dropout_mode": common["dropout_mode"],
            "loss": check_in(loss, "loss", RELU_LOSSES),
            "relu_output_grad": check_bool(relu_output_grad, "relu_output_grad"),
            "input_mode": common["input_mode"],
            "kernel_stddev": common["kernel_stddev"],
        }

    def build_model(self, input_shape: tuple, n_classes: int, seed: int) -> keras.Model:
        inputs = keras.Input(shape=tuple(input_shape), name="features")
        h = inputs
        for layer in self._hidden_layers(seed, "relu", "sg2"):
            h = layer(h)
        out = self._output_dense(n_classes, seed)(h)
        if self.params["loss"] == "quadratic":
            if self.params["relu_output_grad"]:
                out = keras.layers.ReLU(name="output_relu")(out)
            else:
                out = StraightThroughReLU(name="output_relu")(out)
        return keras.Model(inputs, out, name="relu_readout")

    def loss(self) -> Any:
        if self.params["loss"] == "quadratic":
            return QuadraticCost()
        return super().loss()
