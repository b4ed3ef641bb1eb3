"""The binary-activation readout of SpykeFlow (``"binary"``) and its ReLU baseline (``"relu"``).

Model (reference section 4, C2-C4)::

    x (N, F) -> [BinaryDense: z = xW + b; dropout; a = 1[z >= 0]] x len(hidden)
             -> Dense(K) -> FloorLogits -> softmax cross-entropy

The hidden step's derivative is a surrogate from :mod:`spykeflow.functional.surrogate`
(``"sg1"``: box window ``[0, 0.125]`` inclusive, the paper's surrogate gradient 1; ``"sg2"``:
``g = a``, surrogate gradient 2). The floor passes gradients straight through. Weights start
from a truncated normal with std 0.01 (cut at 2 std), biases at 0 (C2).

``"relu"`` is the "actual gradient" baseline: ReLU hidden units, no floor, softmax
cross-entropy (EMNIST notebooks) or, with ``cost="quadratic"``, the MNIST notebooks' ReLU
output with quadratic cost whose delta omits ReLU' (``relu_output_grad=False``).
"""

from __future__ import annotations

import keras
import tensorflow as tf

from ..functional import surrogate as _surrogate
from ..layers.binary import (
    DROPOUT_MODES,
    BinaryDense,
    FloorLogits,
    StraightThroughReLU,
)
from .base import KerasBackend

__all__ = ["BinaryReadout", "ReluReadout", "QuadraticCost"]

INPUT_MODES = ("event", "dense")


def _check_hidden(hidden):
    if isinstance(hidden, bool):
        hidden = None
    elif isinstance(hidden, int):
        hidden = (hidden,)
    elif isinstance(hidden, (list, tuple)) and hidden and all(
        isinstance(h, int) and not isinstance(h, bool) for h in hidden
    ):
        hidden = tuple(hidden)
    else:
        hidden = None
    if hidden is None or min(hidden) < 1:
        raise ValueError(
            "Expected hidden to be a positive int or a non-empty list of positive ints "
            "(units per hidden layer). Received: hidden={!r}.".format(hidden)
        )
    return hidden


def _check_common(params):
    rate = params["dropout"]
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate < 1:
        raise ValueError(f"Expected dropout in [0, 1). Received: dropout={rate!r}.")
    if params["dropout_mode"] not in DROPOUT_MODES:
        raise ValueError(
            f"Expected dropout_mode to be one of {list(DROPOUT_MODES)}. "
            f"Received: dropout_mode={params['dropout_mode']!r}."
        )
    if params["input_mode"] not in INPUT_MODES:
        raise ValueError(
            f"Expected input_mode to be one of {list(INPUT_MODES)}. "
            f"Received: input_mode={params['input_mode']!r}."
        )
    std = params["kernel_stddev"]
    if isinstance(std, bool) or not isinstance(std, (int, float)) or not std > 0:
        raise ValueError(f"Expected kernel_stddev > 0. Received: kernel_stddev={std!r}.")


@keras.saving.register_keras_serializable(package="spykeflow")
class QuadraticCost(keras.losses.Loss):
    """``C = 1/2 sum_k (a_k - onehot(y)_k)^2`` averaged over the batch (integer labels).

    With a straight-through ReLU output its delta is ``a - y`` (the MNIST notebooks).
    """

    def __init__(self, name="quadratic_cost", reduction="sum_over_batch_size"):
        super().__init__(name=name, reduction=reduction)

    def call(self, y_true, y_pred):
        y_true = tf.cast(tf.reshape(y_true, [-1]), tf.int32)
        target = tf.one_hot(y_true, tf.shape(y_pred)[-1], dtype=y_pred.dtype)
        return 0.5 * tf.reduce_sum(tf.square(y_pred - target), axis=-1)


class _DenseReadout(KerasBackend):
    input_kind = "features"
    _defaults: dict = {}

    def __init__(self, **params):
        unknown = set(params) - set(self._defaults)
        if unknown:
            raise ValueError(
                f"Backend {self.name!r} takes {sorted(self._defaults)}. "
                f"Received unknown: {sorted(unknown)}."
            )
        merged = {**self._defaults, **params}
        merged["hidden"] = list(_check_hidden(merged["hidden"]))
        _check_common(merged)
        self._validate(merged)
        super().__init__(**merged)

    def _validate(self, params):
        pass

    def compile_kwargs(self):
        # The event path has data-dependent shapes (tf.where); XLA cannot compile it.
        return {"jit_compile": False}

    def predict_logits(self, model, x, batch_size, **kwargs):
        if kwargs:
            raise TypeError(
                f"Backend {self.name!r} takes no prediction options. Received: {sorted(kwargs)}."
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
        Hidden units per layer (reference: 1000 for MNIST, 1500 for EMNIST).
    surrogate : str or dict
        Surrogate name/config from :mod:`spykeflow.functional.surrogate` (``"sg1"`` default,
        ``"sg2"``, ``"gaussian"``, ...).
    surrogate_window : None or (lo, hi, inclusive)
        Shortcut for a box surrogate on ``[lo, hi]`` (e.g. ``(0, 0.25, True)`` for tau=0.25);
        overrides ``surrogate``.
    dropout : float
        Drop probability of the hidden pre-activations (reference 0.5).
    dropout_mode : {"force_off", "inverted"}
        ``"force_off"``: dropped ``z := -1``, no rescaling (reference); ``"inverted"``.
    floor : bool
        Floor the logits (straight-through gradient).
    floor_at_inference : bool
        Keep the floor when predicting (reference: yes).
    input_mode : {"dense", "event"}
        First layer as a dense matmul (default) or as a gather-sum over the active inputs
        (same values; the paper's "multiplication replaced by addition"). On the 2-core CPU
        of this project the TensorFlow gather/segment-sum kernels were about 3x slower per
        epoch than the oneDNN matmul for 3630-d features with ~104 active
        (``bench/bench_readout.py``), so ``"dense"`` is the default.
    kernel_stddev : float
        Truncated-normal init std (reference 0.01).
    """

    name = "binary"
    _defaults = {
        "hidden": [1000],
        "surrogate": "sg1",
        "surrogate_window": None,
        "dropout": 0.5,
        "dropout_mode": "force_off",
        "floor": True,
        "floor_at_inference": True,
        "input_mode": "dense",
        "kernel_stddev": 0.01,
    }

    def _validate(self, params):
        window = params["surrogate_window"]
        if window is not None:
            if not (isinstance(window, (list, tuple)) and len(window) in (2, 3)):
                raise ValueError(
                    "Expected surrogate_window=(lo, hi) or (lo, hi, inclusive). "
                    f"Received: surrogate_window={window!r}."
                )
            params["surrogate_window"] = [float(window[0]), float(window[1]),
                                          bool(window[2]) if len(window) == 3 else True]
        surrogate = self._surrogate_from(params)  # validates the name and parameters
        if not isinstance(params["surrogate"], (str, dict)):
            params["surrogate"] = surrogate.get_config()  # keep the config JSON-serialisable

    @staticmethod
    def _surrogate_from(params):
        window = params["surrogate_window"]
        if window is not None:
            lo, hi, inclusive = window
            return _surrogate.get("box", lo=lo, hi=hi, inclusive=inclusive)
        return _surrogate.get(params["surrogate"])

    def build_model(self, input_shape, n_classes, seed):
        spike = self._surrogate_from(self.params)
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
        As :class:`BinaryReadout` (reference: 900 hidden for MNIST, 1500 for EMNIST; dropout
        0.5 applied as ``z := -1``, i.e. ReLU output 0, no rescaling).
    cost : {"cross_entropy", "quadratic"}
        Softmax cross-entropy on linear logits (EMNIST notebooks, default) or the MNIST
        notebooks' quadratic cost on a ReLU output.
    relu_output_grad : bool
        Quadratic cost only: include ``ReLU'(z3)`` in the output delta (``True``) or omit it
        like the notebooks (``False``, straight-through).
    """

    name = "relu"
    _defaults = {
        "hidden": [900],
        "dropout": 0.5,
        "dropout_mode": "force_off",
        "cost": "cross_entropy",
        "relu_output_grad": False,
        "input_mode": "dense",
        "kernel_stddev": 0.01,
    }

    def _validate(self, params):
        if params["cost"] not in ("cross_entropy", "quadratic"):
            raise ValueError(
                "Expected cost to be 'cross_entropy' or 'quadratic'. "
                f"Received: cost={params['cost']!r}."
            )

    def build_model(self, input_shape, n_classes, seed):
        inputs = keras.Input(shape=tuple(input_shape), name="features")
        h = inputs
        for layer in self._hidden_layers(seed, "relu", "sg2"):
            h = layer(h)
        out = self._output_dense(n_classes, seed)(h)
        if self.params["cost"] == "quadratic":
            if self.params["relu_output_grad"]:
                out = keras.layers.ReLU(name="output_relu")(out)
            else:
                out = StraightThroughReLU(name="output_relu")(out)
        return keras.Model(inputs, out, name="relu_readout")

    def loss(self):
        if self.params["cost"] == "quadratic":
            return QuadraticCost()
        return super().loss()
