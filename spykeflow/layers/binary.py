"""Layers of the binary-activation readout (Vaila et al., SpykeFlow; the model is described in
``docs/original/readout.md``).

The published readout is ``x (binary features) -> z2 = x W2 + b2 -> dropout -> a2 = 1[z2 >= 0]
-> z3 = floor(a2 W3 + b3) -> softmax cross-entropy``, trained by back-propagation where the
derivative of the step ``a2 = 1[z2 >= 0]`` is replaced by a surrogate ``g(z2)`` (surrogate 1:
``1[0 <= z2 <= 0.125]``; surrogate 2: ``g = a2``) and the floor passes gradients straight
through.

Pure functions (``keras.ops`` expressions on any Keras backend, testable on tiny tensors):

* :func:`floor_ste` -- ``floor(x)`` forward, identity backward (straight-through);
* :func:`force_off_dropout` -- the original readout's dropout: dropped pre-activations become
  ``-1`` (the unit cannot fire and gets no gradient), no ``1/(1-p)`` rescaling;
* :func:`inverted_dropout` -- standard dropout (kept values scaled by ``1/(1-p)``);
* :func:`event_matmul` -- ``x @ kernel`` computed from the active inputs only (a gather of
  kernel rows and a segment sum: "multiplication replaced by addition", paper eq. 19).

Thin Keras layers (registered as serialisable under the package ``"spykeflow"``, so a saved
model loads with ``safe_mode=True``):

* :class:`BinaryDense` -- dense pre-activation (dense or event-driven), dropout on the
  pre-activation, then the spike ``1[z >= 0]`` with a named surrogate gradient (or ReLU for the
  actual-gradient baseline);
* :class:`FloorLogits` -- the floored logits (optional at evaluation);
* :class:`StraightThroughReLU` -- ``max(z, 0)`` forward with identity backward (the MNIST
  notebooks' output layer, whose delta omits ReLU').
"""

from __future__ import annotations

import logging
from typing import Any

import keras
import numpy as np  # noqa: F401  (the doctests use it)
from keras import ops

from .. import _backend
from .._validation import check_bool, check_float, check_in, check_int
from ..functional import surrogate as _surrogate

logger = logging.getLogger("spykeflow.binary")

__all__ = [
    "floor_ste",
    "force_off_dropout",
    "inverted_dropout",
    "event_matmul",
    "BinaryDense",
    "FloorLogits",
    "StraightThroughReLU",
    "DROPOUT_MODES",
    "INPUT_MODES",
    "ACTIVATIONS",
]

#: Values of ``dropout_mode``.
DROPOUT_MODES = ("force_off", "inverted")
#: Values of :class:`BinaryDense` ``activation``.
ACTIVATIONS = ("spike", "relu")
#: Values of :class:`BinaryDense` ``input_mode``.
INPUT_MODES = ("dense", "event")


@ops.custom_gradient
def _floor_ste(x):
    # TensorFlow and JAX pass the upstream gradient positionally, PyTorch by keyword.
    def grad(*args, upstream=None):
        if upstream is None:
            (upstream,) = args
        return upstream

    return ops.floor(x), grad


@ops.custom_gradient
def _relu_ste(x):
    def grad(*args, upstream=None):
        if upstream is None:
            (upstream,) = args
        return upstream

    return ops.relu(x), grad


def floor_ste(x: Any) -> Any:
    """``floor(x)`` with the straight-through gradient ``d floor(x) / dx := 1``.

    >>> keras.ops.convert_to_numpy(floor_ste(np.array([-0.5, 0.0, 1.7], "float32"))).tolist()
    [-1.0, 0.0, 1.0]
    """
    return _floor_ste(ops.convert_to_tensor(x))


def _dtype(x: Any) -> str:
    return keras.backend.standardize_dtype(x.dtype)


def force_off_dropout(z: Any, rate: float, seed: Any) -> Any:
    """The original readout's dropout on pre-activations ``z``
    (``docs/original/readout.md#dropout``).

    Each element is dropped independently with probability ``rate``; a dropped element is set
    to ``-1`` (below the firing threshold 0, and outside every surrogate window that starts at
    0, so it neither fires nor receives gradient). Kept elements are unchanged: there is **no**
    ``1/(1-rate)`` rescaling.

    Parameters
    ----------
    z : Tensor, float
        Pre-activations, any shape.
    rate : float in [0, 1)
        Drop probability.
    seed : keras.random.SeedGenerator or int
        Randomness source.

    >>> z = np.array([[0.3, -0.2, 0.0, 2.0]], "float32")
    >>> keras.ops.convert_to_numpy(force_off_dropout(z, 0.0, seed=1)).tolist()
    [[0.30000001192092896, -0.20000000298023224, 0.0, 2.0]]
    """
    if rate <= 0:
        return z
    z = ops.convert_to_tensor(z)
    keep = keras.random.uniform(ops.shape(z), dtype=_dtype(z), seed=seed) >= rate
    return ops.where(keep, z, ops.cast(-1.0, _dtype(z)))


def inverted_dropout(z: Any, rate: float, seed: Any) -> Any:
    """Standard ("inverted") dropout: dropped elements become 0, kept ones are scaled by
    ``1 / (1 - rate)``, so the expectation is unchanged."""
    if rate <= 0:
        return z
    z = ops.convert_to_tensor(z)
    keep = keras.random.uniform(ops.shape(z), dtype=_dtype(z), seed=seed) >= rate
    return ops.where(keep, z / (1.0 - rate), ops.zeros_like(z))


def _nonzero_or_none(x: Any) -> tuple[Any, Any] | None:
    """Row and column indices of the non-zero entries of the 2-D ``x``, or None inside a
    jitted JAX function, where an array of data-dependent size cannot exist."""
    if _backend.name() != "jax":
        return ops.nonzero(x)
    import jax

    try:
        return ops.nonzero(x)
    except jax.errors.ConcretizationTypeError:
        global _WARNED_JIT
        if not _WARNED_JIT:
            _WARNED_JIT = True
            logger.warning(
                "event_matmul inside a jitted JAX function: the number of active inputs is "
                "data-dependent, which XLA cannot compile, so it is computed as a dense matmul "
                "(the same values and gradients, no sparse speed-up). Use input_mode='dense' "
                "on JAX, or the TensorFlow or PyTorch backend for the event-driven path.")
        return None


_WARNED_JIT = False


def event_matmul(x: Any, kernel: Any) -> Any:
    """``x @ kernel`` from the active (non-zero) inputs only.

    For every sample the rows of ``kernel`` belonging to its non-zero inputs are gathered and
    summed (``keras.ops.segment_sum``), scaled by the input value (1 for binary features, so
    only additions remain). The cost is ``O(nnz * units)`` instead of ``O(N * F * units)``; on
    TensorFlow the gradient w.r.t. ``kernel`` is an ``IndexedSlices`` touching only the active
    rows, and the gradient w.r.t. ``x`` is non-zero only at the active inputs.

    The number of active inputs is data-dependent, which XLA cannot compile: inside a jitted
    JAX function (the JAX training and prediction steps) the same product is computed as a
    dense matmul of ``x`` (its gradient masked to the active inputs), with a warning.

    Parameters
    ----------
    x : Tensor ``(N, F)``
        Inputs (bool or numeric); mostly zeros.
    kernel : Tensor ``(F, units)``

    Returns
    -------
    Tensor ``(N, units)`` in ``kernel``'s dtype.

    >>> x = np.array([[0., 1., 1.], [0., 0., 0.]], "float32")
    >>> w = np.arange(6, dtype="float32").reshape(3, 2)
    >>> keras.ops.convert_to_numpy(event_matmul(x, w)).tolist()
    [[6.0, 8.0], [0.0, 0.0]]
    """
    x = ops.convert_to_tensor(x)
    kernel = ops.convert_to_tensor(kernel)
    dtype = _dtype(kernel)
    active = _nonzero_or_none(x)
    if active is None:  # jitted JAX: dense product, gradient w.r.t. x only where x != 0
        if _dtype(x) == "bool":
            return ops.matmul(ops.cast(x, dtype), kernel)
        values = ops.cast(x, dtype)
        masked = ops.where(ops.not_equal(values, 0), values, ops.stop_gradient(values))
        return ops.matmul(masked, kernel)
    rows, cols = active  # (nnz,) each: sample, input
    contrib = ops.take(kernel, cols, axis=0)  # (nnz, units)
    if _dtype(x) != "bool":
        flat = ops.reshape(x, (-1,))
        values = ops.cast(ops.take(flat, rows * x.shape[1] + cols), dtype)
        contrib = contrib * values[:, None]
    return ops.segment_sum(contrib, rows, num_segments=ops.shape(x)[0])


@keras.saving.register_keras_serializable(package="spykeflow")
class BinaryDense(keras.layers.Layer):
    """Hidden layer of the binary readout: ``a = S(dropout(x W + b))``.

    ``S`` is the spike ``1[z >= 0]`` (a unit with ``z == 0`` fires) whose derivative in the
    backward pass is the named surrogate ``g(z)`` from :mod:`spykeflow.functional.surrogate`
    (``"sg1"``: ``1[0 <= z <= 0.125]``, ``"sg2"``: ``1[z >= 0]``, or any registry name/config).
    With ``activation="relu"`` it is the actual-gradient baseline ``a = max(z, 0)``.

    Parameters
    ----------
    units : int
        Number of hidden units H.
    activation : {"spike", "relu"}
    surrogate : str, dict or Surrogate
        Surrogate of the spike (ignored for ``"relu"``).
    dropout : float in [0, 1)
        Drop probability during training (the original: 0.5).
    dropout_mode : {"force_off", "inverted"}
        ``"force_off"`` (the original): dropped ``z := -1``, no rescaling; ``"inverted"``:
        standard dropout.
    input_mode : {"dense", "event"}
        ``"dense"``: ``x @ W``; ``"event"``: :func:`event_matmul` (same result; faster for
        sparse binary inputs).
    kernel_stddev : float
        Std of the truncated-normal initialisation (cut at 2 std; the original: 0.01).
    seed : int or None
        Seed of the initialiser and of the dropout stream.

    Input shape ``(N, F)``; output shape ``(N, units)``, float32 in {0, 1} for ``"spike"``.

    >>> layer = BinaryDense(3, seed=0)
    >>> keras.ops.convert_to_numpy(layer(np.zeros((2, 4), "float32"))).tolist()  # z = 0: all fire
    [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]
    """

    def __init__(
        self,
        units: int,
        activation: str = "spike",
        surrogate: str | dict | _surrogate.Surrogate = "sg1",
        dropout: float = 0.5,
        dropout_mode: str = "force_off",
        input_mode: str = "dense",
        kernel_stddev: float = 0.01,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.units = check_int(units, "units")
        self.activation = check_in(activation, "activation", ACTIVATIONS)
        self.surrogate = _surrogate.get(surrogate)
        self.dropout = check_float(dropout, "dropout", 0, 1, high_open=True)
        self.dropout_mode = check_in(dropout_mode, "dropout_mode", DROPOUT_MODES)
        self.input_mode = check_in(input_mode, "input_mode", INPUT_MODES)
        self.kernel_stddev = check_float(kernel_stddev, "kernel_stddev", low=0, low_open=True)
        self.seed = check_int(seed, "seed", minimum=0, allow_none=True)
        self._dropout_seed = keras.random.SeedGenerator(
            None if self.seed is None else self.seed + 7919
        )

    def build(self, input_shape):
        if len(input_shape) != 2 or input_shape[-1] is None:
            raise ValueError(
                f"BinaryDense expects inputs (N, F) with a known F. Received: shape={input_shape}."
            )
        self.kernel = self.add_weight(
            name="kernel",
            shape=(int(input_shape[-1]), self.units),
            initializer=keras.initializers.TruncatedNormal(stddev=self.kernel_stddev,
                                                           seed=self.seed),
        )
        self.bias = self.add_weight(name="bias", shape=(self.units,), initializer="zeros")

    def preactivation(self, x: Any) -> Any:
        """``z = x W + b`` (no dropout)."""
        if self.input_mode == "event":
            z = event_matmul(x, self.kernel)
        else:
            z = ops.matmul(ops.cast(x, self.kernel.dtype), self.kernel)
        return z + self.bias

    def call(self, x, training=False):
        z = self.preactivation(x)
        if training and self.dropout > 0:
            drop = force_off_dropout if self.dropout_mode == "force_off" else inverted_dropout
            z = drop(z, self.dropout, self._dropout_seed)
        if self.activation == "relu":
            return ops.relu(z)
        return self.surrogate(z)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.units)

    def get_config(self):
        config = super().get_config()
        config.update(
            units=self.units,
            activation=self.activation,
            surrogate=self.surrogate.get_config(),
            dropout=self.dropout,
            dropout_mode=self.dropout_mode,
            input_mode=self.input_mode,
            kernel_stddev=self.kernel_stddev,
            seed=self.seed,
        )
        return config


@keras.saving.register_keras_serializable(package="spykeflow")
class FloorLogits(keras.layers.Layer):
    """``floor(z)`` with a straight-through gradient (``docs/original/readout.md#floored-logits``).

    Parameters
    ----------
    at_inference : bool
        Apply the floor also outside training (the original: yes). ``False`` floors only while
        training.
    enabled : bool
        ``False`` makes the layer the identity.

    >>> keras.ops.convert_to_numpy(FloorLogits()(np.array([[1.9, -0.1]], "float32"))).tolist()
    [[1.0, -1.0]]
    """

    def __init__(self, at_inference: bool = True, enabled: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.at_inference = check_bool(at_inference, "at_inference")
        self.enabled = check_bool(enabled, "enabled")

    def call(self, z, training=False):
        if not self.enabled or (not training and not self.at_inference):
            return z
        return _floor_ste(z)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(at_inference=self.at_inference, enabled=self.enabled)
        return config


@keras.saving.register_keras_serializable(package="spykeflow")
class StraightThroughReLU(keras.layers.Layer):
    """``max(z, 0)`` forward, identity backward: the MNIST "actual gradient" notebooks'
    output layer, whose quadratic-cost delta is ``a3 - y`` without ``ReLU'(z3)``.

    >>> out = StraightThroughReLU()(np.array([[-1.0, 2.0]], "float32"))
    >>> keras.ops.convert_to_numpy(out).tolist()
    [[0.0, 2.0]]
    """

    def call(self, z):
        return _relu_ste(z)

    def compute_output_shape(self, input_shape):
        return input_shape
