"""ANN -> SNN conversion: QCFS (Bu et al., ICLR 2022) and the classic data-normalised method.

:func:`convert` turns a trained Keras model into a :class:`SpikingModel` of integrate-and-fire
(IF) neurons with reset by subtraction (:func:`spykeflow.functional.qcfs.if_step`):

* every :class:`~spykeflow.layers.qcfs.QCFS` activation becomes IF neurons with threshold
  ``theta = lambda`` and initial membrane ``phi * theta`` (Bu et al. 2022);
* every ReLU (a ``ReLU`` / ``Activation("relu")`` layer or ``activation="relu"`` of a
  Conv2D / Dense) becomes IF neurons whose threshold is the ``percentile``-th percentile of that
  layer's positive ReLU activations on calibration data (max-activation normalisation, Diehl et
  al. 2015, with ``percentile=100``; robust normalisation, Rueckauer et al. 2017, with 99.9) and
  initial membrane ``relu_shift * theta`` (0 in those papers). Scaling the threshold and the
  spike amplitude by ``lambda_l`` is the same as the papers' weight normalisation
  ``W_l <- W_l lambda_{l-1} / lambda_l``, ``b_l <- b_l / lambda_l`` with unit thresholds;
* Conv2D / Dense are applied to the spikes of the previous layer (weighted by its threshold)
  at every time step, biases added every step; a BatchNormalization that directly follows a
  Conv2D / Dense is folded into it (:func:`spykeflow.functional.qcfs.fold_batch_norm`);
* AveragePooling2D and Flatten are linear and kept as they are; Dropout (and other
  inference-time identities) is dropped;
* MaxPooling2D: the max of rates is not the rate of the max of spikes. Bu et al. (and Rueckauer
  et al.) train with average pooling instead, which is what :mod:`spykeflow.backends.qcfs` builds.
  For models that do use max pooling, ``max_pool="gate"`` (default) uses the gating of Rueckauer
  et al. 2017: each pooling window passes, at every step, the current input of the unit with the
  largest *accumulated* input so far (a running estimate of the max rate); ``max_pool="error"``
  refuses such models.
* the last layer (Dense / Conv2D without a spiking activation; a final ``softmax`` is dropped)
  is the read-out: its current is averaged over time, so the SNN output after ``T`` steps is
  ``(1/T) sum_t (W o(t) + b)``, directly comparable with the ANN's logits.

Inputs: an image batch ``(N, H, W, C)`` is applied as a constant input current at every step
(the usual "analog input" of conversion papers); a frame sequence ``(N, T_in, H, W, C)`` is fed one
frame per step (cycling when ``T > T_in``), e.g. event count frames from
:func:`spykeflow.functional.events.bin_events` (``mode="count"``) times a scale.

:meth:`SpikingModel.simulate` runs the whole time loop as one ``keras.ops.fori_loop`` inside one
compiled function (a graph function on TensorFlow, ``jax.jit`` on JAX; eager on PyTorch) and
returns the cumulative mean output at every requested ``T`` from a single run; it keeps only the
recorded outputs, so its memory does not grow with the number of steps. Everything is written
with ``keras.ops`` and gives the same numbers on the TensorFlow, JAX and PyTorch backends.

Examples
--------
>>> import keras, numpy as np
>>> from spykeflow.layers.qcfs import QCFS
>>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2, use_bias=False),
...                           QCFS(levels=4, threshold=1.0),
...                           keras.layers.Dense(1, use_bias=False)])
>>> model.set_weights([np.eye(2, dtype="float32"), np.array(1.0, "float32"),
...                    np.ones((2, 1), "float32")])
>>> snn = convert(model)
>>> x = np.array([[0.3, 0.6]], "float32")
>>> float(model.predict(x, verbose=0)[0, 0]), float(snn.simulate(x, 4)[0, 0, 0])  # T = L: exact
(0.75, 0.75)
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np
from keras import ops
from tqdm.auto import tqdm

from ._validation import check_finite_array, check_float, check_in, check_int
from .functional import qcfs as F

__all__ = [
    "SUPPORTED_LAYERS",
    "SpikingModel",
    "convert",
]

log = logging.getLogger(__name__)

#: Keras layer classes :func:`convert` understands.
SUPPORTED_LAYERS = (
    "InputLayer",
    "Conv2D",
    "Dense",
    "AveragePooling2D",
    "MaxPooling2D",
    "BatchNormalization",
    "Flatten",
    "Dropout",
    "SpatialDropout2D",
    "QCFS",
    "ReLU",
    "Activation (relu / linear)",
)


# --------------------------------------------------------------------------------------------
# Operations of the converted network
# --------------------------------------------------------------------------------------------


@dataclass
class _Op:
    kind: str  # conv | dense | avgpool | maxpool | flatten | if
    name: str
    params: dict = field(default_factory=dict)

    @property
    def stateful(self) -> bool:
        return self.kind in ("if", "maxpool")

    # analog (ANN) evaluation -----------------------------------------------------------------
    def analog(self, h: Any) -> Any:
        p = self.params
        if self.kind == "if":
            if p["source"] == "qcfs":
                return F.qcfs(h, p["threshold"], p["levels"], p["shift"])
            return ops.relu(h)
        if self.kind == "maxpool":
            return ops.max_pool(h, p["pool"], p["strides"], p["padding"],
                                data_format="channels_last")
        return self.linear(h)

    # stateless linear maps ----------------------------------------------------------------------
    def linear(self, h: Any) -> Any:
        p = self.params
        if self.kind == "conv":
            h = ops.conv(h, p["kernel"], p["strides"], p["padding"],
                         data_format="channels_last", dilation_rate=p["dilation"])
            return ops.add(h, p["bias"])
        if self.kind == "dense":
            return ops.add(ops.matmul(h, p["kernel"]), p["bias"])
        if self.kind == "avgpool":
            return ops.average_pool(h, p["pool"], p["strides"], p["padding"],
                                    data_format="channels_last")
        if self.kind == "flatten":
            return ops.reshape(h, (-1, int(np.prod(h.shape[1:]))))
        raise RuntimeError(f"op {self.kind} is not linear")  # pragma: no cover

    # spiking step -------------------------------------------------------------------------------
    def init_state(self, batch: Any, shape: Sequence[int]) -> Any:
        full = (batch,) + tuple(shape)
        if self.kind == "if":
            return ops.full(full, ops.cast(self.params["shift"] * self.params["threshold"],
                                           "float32"), dtype="float32")
        return ops.zeros(full, "float32")  # maxpool: accumulated input

    def step(self, h: Any, state: Any) -> tuple[Any, Any]:
        p = self.params
        if self.kind == "if":
            out, st = F.if_step(h, F.IFState(state), p["threshold"])
            return out, st.v
        # max-pool gating (Rueckauer et al. 2017): pass the current input of the unit with the
        # largest accumulated input in each window (the first such unit in row-major order on a
        # tie, as TensorFlow's max_pool_with_argmax picks it).
        acc = state + h
        best_acc = best_h = None
        for a, v in zip(_windows(acc, p, -np.inf), _windows(h, p, 0.0)):
            if best_acc is None:
                best_acc, best_h = a, v
            else:
                larger = a > best_acc
                best_acc = ops.where(larger, a, best_acc)
                best_h = ops.where(larger, v, best_h)
        return best_h, acc

    def with_tensors(self) -> _Op:
        """A copy whose array parameters are backend tensors (converted once, outside traces)."""
        return _Op(self.kind, self.name, {
            k: ops.convert_to_tensor(v) if isinstance(v, np.ndarray) else v
            for k, v in self.params.items()})

    def describe(self) -> dict[str, Any]:
        d: dict[str, Any] = {"kind": self.kind, "name": self.name}
        if self.kind == "if":
            d.update(threshold=float(self.params["threshold"]), shift=self.params["shift"],
                     source=self.params["source"])
            if self.params["source"] == "qcfs":
                d["levels"] = self.params["levels"]
        return d


def _windows(x: Any, p: dict, fill: float):
    """The ``ph * pw`` strided views ``(N, H_out, W_out, C)`` of a 2-D pooling over ``x``
    ``(N, H, W, C)``, one per window position in row-major order. ``"same"`` padding is filled
    with ``fill`` (TensorFlow's split: the smaller half before)."""
    (ph, pw), (sh, sw) = p["pool"], p["strides"]
    height, width = int(x.shape[1]), int(x.shape[2])
    if p["padding"] == "same":
        out_h, out_w = -(-height // sh), -(-width // sw)
        pad_h = max((out_h - 1) * sh + ph - height, 0)
        pad_w = max((out_w - 1) * sw + pw - width, 0)
        if pad_h or pad_w:
            x = ops.pad(x, [[0, 0], [pad_h // 2, pad_h - pad_h // 2],
                            [pad_w // 2, pad_w - pad_w // 2], [0, 0]], constant_values=fill)
    else:
        out_h, out_w = (height - ph) // sh + 1, (width - pw) // sw + 1
    for i in range(ph):
        for j in range(pw):
            yield x[:, i:i + sh * (out_h - 1) + 1:sh, j:j + sw * (out_w - 1) + 1:sw, :]


class _Simulator(keras.Model):
    """The time loop of a :class:`SpikingModel` as a Keras model without weights, so that
    ``predict_on_batch`` compiles it the way each backend can: a graph function (TensorFlow,
    without XLA, as before the port), ``jax.jit`` (JAX), eager (PyTorch). Inputs
    ``(x, scale, t_max, record)``: ``x`` static images ``(N, ...)`` or, with ``sequence=True``,
    frames ``(N, T_in, ...)``; ``t_max`` and the recorded steps are tensors, so other values do
    not retrace (one trace per input dtype, whatever the batch size or sequence length)."""

    def __init__(self, spiking_ops, state_shapes, output_shape, sequence):
        super().__init__(name="spiking_simulation")
        self._snn_ops = [op.with_tensors() for op in spiking_ops]
        self._state_shapes = [tuple(s) for s in state_shapes]
        self._out_shape = tuple(output_shape)
        self._sequence = bool(sequence)
        self.built = True
        self.jit_compile = keras.backend.backend() == "jax"

    def call(self, inputs):
        x, scale, t_max, record = inputs
        sequence = self._sequence
        batch = ops.shape(x)[0]
        stateful = [op for op in self._snn_ops if op.stateful]
        states = tuple(op.init_state(batch, s) for op, s in zip(stateful, self._state_shapes))
        n_in = ops.shape(x)[1] if sequence else 1
        acc0 = ops.zeros((batch,) + self._out_shape, "float32")
        rec_shape = (-1,) + (1,) * (1 + len(self._out_shape))
        record = ops.reshape(ops.cast(record, "int32"), rec_shape)  # (R, 1, ...)
        out0 = ops.zeros_like(ops.cast(record, "float32") + acc0[None])  # (R, N, ...)

        def body(t, carry):
            states, acc, out = carry
            if sequence:
                h = ops.cast(ops.take(x, t % n_in, axis=1), "float32") * scale
            else:
                h = x
            new_states, i = [], 0
            for op in self._snn_ops:
                if op.stateful:
                    h, s = op.step(h, states[i])
                    new_states.append(s)
                    i += 1
                else:
                    h = op.linear(h)
            acc = acc + h
            mean = acc / ops.cast(t + 1, "float32")
            out = ops.where(ops.equal(record, t + 1), mean[None], out)
            return tuple(new_states), acc, out

        _, _, out = ops.fori_loop(0, t_max, body, (states, acc0, out0))
        return out


class SpikingModel:
    """A converted network of IF neurons (see the module docstring).

    Built by :func:`convert`; holds constants only (not the source Keras model; the time loop
    is a weightless Keras model built on the first :meth:`simulate`), so it is cheap to keep.

    Attributes
    ----------
    ops : list
        The operations in order (``describe()`` gives a readable summary).
    input_shape : tuple
        Shape of one static input (without the batch axis), e.g. ``(28, 28, 1)``.
    """

    def __init__(self, ops: Sequence[_Op], input_shape: Sequence[int]) -> None:
        self.ops = list(ops)
        self.input_shape = tuple(int(d) for d in input_shape)
        self._state_shapes = self._infer_state_shapes()
        self._runner: dict | None = None

    # ------------------------------------------------------------------------------------------
    def describe(self) -> list[dict[str, Any]]:
        """List of dicts (kind, name, threshold ...) of the operations, in order."""
        return [op.describe() for op in self.ops]

    @property
    def thresholds(self) -> list[float]:
        """Thresholds ``theta`` of the IF layers, in order."""
        return [float(op.params["threshold"]) for op in self.ops if op.kind == "if"]

    def _infer_state_shapes(self):
        h = ops.zeros((1,) + self.input_shape, "float32")
        shapes = []
        for op in self.ops:
            if op.stateful:
                shapes.append(tuple(int(d) for d in h.shape[1:]))
            h = op.analog(h)
        self.output_shape = tuple(int(d) for d in h.shape[1:])
        return shapes

    # ------------------------------------------------------------------------------------------
    def _check_x(self, x, sequence_ok=True):
        n_static = len(self.input_shape) + 1
        arr = np.asarray(x)
        if sequence_ok and arr.dtype == np.uint8 and arr.ndim == n_static + 1 and len(arr):
            x = arr  # event counts stay compact (uint8); cast to float32 step by step
        else:
            x = check_finite_array(x, "x", min_ndim=1)
        if x.ndim == n_static and x.shape[1:] == self.input_shape:
            return x, False
        if sequence_ok and x.ndim == n_static + 1 and x.shape[2:] == self.input_shape:
            return x, True
        raise ValueError(
            f"Expected x of shape (N, {', '.join(map(str, self.input_shape))}) (static input) or "
            f"(N, T_in, {', '.join(map(str, self.input_shape))}) (one frame per time step). "
            f"Received: x.shape={x.shape}."
        )

    def analog(self, x: Any, batch_size: int = 256) -> np.ndarray:
        """The ANN the SNN approximates (BatchNorm folded, QCFS / ReLU activations).

        Parameters
        ----------
        x : ndarray ``(N, *input_shape)``

        Returns
        -------
        ndarray ``(N, *output_shape)``, float32: equals the source model's output (logits).
        """
        x, _ = self._check_x(x, sequence_ok=False)
        batch_size = check_int(batch_size, "batch_size")
        outs = []
        for i in range(0, len(x), batch_size):
            h = ops.convert_to_tensor(x[i:i + batch_size])
            for op in self.ops:
                h = op.analog(h)
            outs.append(ops.convert_to_numpy(h))
        return np.concatenate(outs)

    def _build_runner(self, sequence):
        return _Simulator(self.ops, self._state_shapes, self.output_shape, sequence)

    def simulate(self, x: Any, time_steps: int, record: Sequence[int] | None = None,
                 batch_size: int = 128, input_scale: float = 1.0,
                 progress: bool = False) -> np.ndarray:
        """Run the SNN for ``time_steps`` steps; cumulative mean output at each recorded ``T``.

        Parameters
        ----------
        x : ndarray
            Static inputs ``(N, *input_shape)`` (constant current every step) or frame sequences
            ``(N, T_in, *input_shape)`` (frame ``t mod T_in`` at step ``t``; integer event counts
            may be passed as ``uint8`` and are multiplied by ``input_scale`` inside the loop).
        time_steps : int
            ``T_max``, steps to simulate.
        record : sequence of int, optional
            Steps ``T`` (1 <= T <= T_max) at which to report the mean output over steps 1..T;
            default ``[T_max]``.
        batch_size : int
        input_scale : float
            Multiplies sequence frames (ignored for static inputs).
        progress : bool
            Show a tqdm bar over batches.

        Returns
        -------
        ndarray ``(len(record), N, *output_shape)``, float32
            ``out[k] = (1/T_k) sum_{t=1}^{T_k} y(t)``, ``y(t)`` the read-out current of step t.
        """
        x, sequence = self._check_x(x)
        time_steps = check_int(time_steps, "time_steps")
        batch_size = check_int(batch_size, "batch_size")
        input_scale = check_float(input_scale, "input_scale")
        record = [time_steps] if record is None else [int(r) for r in record]
        bad = [r for r in record if not 1 <= r <= time_steps]
        if bad or not record:
            raise ValueError(
                f"Expected record to be a non-empty list of steps in [1, time_steps={time_steps}]. "
                f"Received: record={record}."
            )
        if self._runner is None:
            self._runner = {}
        if sequence not in self._runner:
            self._runner[sequence] = self._build_runner(sequence)
        runner = self._runner[sequence]
        args = (np.asarray(input_scale, "float32"), np.asarray(time_steps, "int32"),
                np.asarray(record, "int32"))
        out = []
        batches = range(0, len(x), batch_size)
        for i in tqdm(batches, desc="SNN", disable=not progress, leave=False):
            xb = np.ascontiguousarray(x[i:i + batch_size])
            out.append(np.asarray(runner.predict_on_batch((xb,) + args)))
        return np.concatenate(out, axis=1)


# --------------------------------------------------------------------------------------------
# Conversion
# --------------------------------------------------------------------------------------------


def _unsupported(layer, why=""):
    return ValueError(
        f"Cannot convert layer {layer.name!r} of type {type(layer).__name__} to a spiking "
        f"network{': ' + why if why else ''}. Supported layers: {', '.join(SUPPORTED_LAYERS)}."
    )


def _activation_name(layer):
    act = getattr(layer, "activation", None)
    return getattr(act, "__name__", str(act)) if act is not None else "linear"


def _chain(model):
    """The model's layers in order, checking that they form a single chain."""
    import keras

    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    if not isinstance(model, keras.Sequential):
        prev = None
        for layer in layers:
            try:
                inp = layer.input
            except (AttributeError, ValueError) as err:  # shared layers / several inputs
                raise ValueError(
                    f"convert supports models whose layers form one chain; layer {layer.name!r} "
                    f"is used more than once or has several inputs ({err})."
                ) from None
            if isinstance(inp, (list, tuple)) or (
                prev is not None and inp is not prev.output
            ):
                raise ValueError(
                    "convert supports models whose layers form one chain (Sequential-like). "
                    f"Received a branching model: layer {layer.name!r} does not take the output of "
                    "the layer before it."
                )
            prev = layer
    return layers


def convert(model: Any, calibration: Any = None, percentile: float = 99.9,
            relu_shift: float = 0.0, max_pool: str = "gate", batch_size: int = 256) -> SpikingModel:
    """Convert a trained Keras model to a :class:`SpikingModel` of IF neurons.

    Parameters
    ----------
    model : keras.Model
        Sequential or single-chain functional model of the layers in :data:`SUPPORTED_LAYERS`
        (channels-last). QCFS activations convert without data.
    calibration : ndarray ``(N, *input_shape)``, optional
        Training inputs used to set the thresholds of ReLU activations (classic conversion);
        required when the model has ReLUs.
    percentile : float in (0, 100]
        Percentile of the positive ReLU activations used as threshold: 100 = max-activation
        normalisation (Diehl et al. 2015), 99.9 = robust normalisation (Rueckauer et al. 2017).
    relu_shift : float in [0, 1]
        Initial membrane of converted ReLU neurons as a fraction of the threshold (0 classic,
        0.5 = the QCFS shift applied to the classic method).
    max_pool : {"gate", "error"}
        How to convert MaxPooling2D (see the module docstring).
    batch_size : int
        Batch size of the calibration pass.

    Returns
    -------
    SpikingModel

    Raises
    ------
    ValueError
        On an unsupported layer (the message names it and lists the supported ones), a
        BatchNormalization not directly after a Conv2D / Dense, a ReLU without calibration data,
        or an activation other than QCFS / ReLU / linear.
    """
    from .layers.qcfs import QCFS

    check_in(max_pool, "max_pool", ("gate", "error"))
    percentile = check_float(percentile, "percentile", 0, 100, low_open=True)
    relu_shift = check_float(relu_shift, "relu_shift", 0, 1)
    batch_size = check_int(batch_size, "batch_size")
    if not isinstance(model, keras.Model):
        raise TypeError(f"Expected a keras.Model. Received: model of type {type(model).__name__}.")
    if not model.built or not model.inputs:
        raise ValueError("Expected a built model with a known input shape (keras.Input(...)).")

    layers = _chain(model)
    snn_ops: list[_Op] = []
    relu_slots = []

    def add_relu(name):
        relu_slots.append(len(snn_ops))
        snn_ops.append(_Op("if", name, {"source": "relu", "threshold": None,
                                        "shift": float(relu_shift)}))

    def check_activation(layer, is_last):
        act = _activation_name(layer)
        if act == "relu":
            add_relu(layer.name + "/relu")
        elif act == "softmax" and is_last:
            log.info("convert: dropping the final softmax of %s (the SNN returns logits)",
                     layer.name)
        elif act != "linear":
            raise _unsupported(layer, f"activation {act!r} (use QCFS, relu or linear)")

    for pos, layer in enumerate(layers):
        is_last = pos == len(layers) - 1
        kind = type(layer).__name__
        if getattr(layer, "data_format", "channels_last") != "channels_last":
            raise _unsupported(layer, "only data_format='channels_last' is supported")
        if isinstance(layer, keras.layers.Conv2D) and kind == "Conv2D":
            if layer.groups != 1:
                raise _unsupported(layer, "grouped convolution")
            kernel = _numpy(layer.kernel)
            bias = _numpy(layer.bias) if layer.use_bias else np.zeros(kernel.shape[-1], "float32")
            snn_ops.append(_Op("conv", layer.name, {
                "kernel": kernel, "bias": bias, "strides": tuple(layer.strides),
                "padding": layer.padding.lower(), "dilation": tuple(layer.dilation_rate)}))
            check_activation(layer, is_last)
        elif kind == "Dense":
            kernel = _numpy(layer.kernel)
            bias = _numpy(layer.bias) if layer.use_bias else np.zeros(kernel.shape[-1], "float32")
            snn_ops.append(_Op("dense", layer.name, {"kernel": kernel, "bias": bias}))
            check_activation(layer, is_last)
        elif kind == "BatchNormalization":
            prev = snn_ops[-1] if snn_ops else None
            axis = layer.axis if isinstance(layer.axis, int) else layer.axis[0]
            if prev is None or prev.kind not in ("conv", "dense") or axis not in (-1, len(
                    layer.input.shape) - 1):
                raise _unsupported(
                    layer, "a BatchNormalization is folded into the Conv2D / Dense right before "
                    "it (over the channel axis); put it directly after one")
            k, b = F.fold_batch_norm(
                prev.params["kernel"], prev.params["bias"],
                _numpy(layer.gamma) if layer.scale else None,
                _numpy(layer.beta) if layer.center else None,
                _numpy(layer.moving_mean), _numpy(layer.moving_variance), layer.epsilon)
            prev.params["kernel"], prev.params["bias"] = k, b
            prev.name += "+" + layer.name
        elif kind == "AveragePooling2D":
            snn_ops.append(_Op("avgpool", layer.name, {
                "pool": tuple(layer.pool_size), "strides": tuple(layer.strides),
                "padding": layer.padding.lower()}))
        elif kind == "MaxPooling2D":
            if max_pool == "error":
                raise _unsupported(layer, "max_pool='error'; train with AveragePooling2D or pass "
                                          "max_pool='gate'")
            snn_ops.append(_Op("maxpool", layer.name, {
                "pool": tuple(layer.pool_size), "strides": tuple(layer.strides),
                "padding": layer.padding.lower()}))
        elif kind == "Flatten":
            snn_ops.append(_Op("flatten", layer.name))
        elif kind in ("Dropout", "SpatialDropout2D"):
            continue
        elif isinstance(layer, QCFS):
            snn_ops.append(_Op("if", layer.name, {
                "source": "qcfs", "threshold": float(_numpy(layer.threshold)),
                "levels": layer.levels, "shift": layer.shift}))
        elif kind == "ReLU":
            if (layer.max_value is not None or float(layer.negative_slope) != 0.0
                    or float(layer.threshold) != 0.0):
                raise _unsupported(layer, "only the plain ReLU (no max_value, slope or threshold)")
            add_relu(layer.name)
        elif kind == "Activation":
            check_activation(layer, is_last)
        else:
            raise _unsupported(layer)

    input_shape = tuple(model.inputs[0].shape[1:])
    if relu_slots:
        if calibration is None:
            raise ValueError(
                "The model has ReLU activations, whose thresholds come from data (max / "
                "percentile normalisation). Pass calibration=<training inputs>. "
                "Received: calibration=None."
            )
        _calibrate(snn_ops, relu_slots, calibration, input_shape, float(percentile), batch_size)
    snn = SpikingModel(snn_ops, input_shape)
    log.info("convert: %d ops, thresholds %s", len(snn_ops), snn.thresholds)
    return snn


def _numpy(variable):
    return np.asarray(ops.convert_to_numpy(variable))


def _calibrate(spiking_ops, slots, x, input_shape, percentile, batch_size):
    x = check_finite_array(x, "calibration", min_ndim=2)
    if x.shape[1:] != input_shape:
        raise ValueError(
            f"Expected calibration of shape (N, {input_shape}). Received: shape={x.shape}."
        )
    collected = {i: [] for i in slots}
    for i in range(0, len(x), batch_size):
        h = ops.convert_to_tensor(x[i:i + batch_size])
        for j, op in enumerate(spiking_ops):
            h = op.analog(h)
            if j in collected:
                v = ops.convert_to_numpy(h).ravel()
                collected[j].append(v[v > 0])
    for j in slots:
        vals = np.concatenate(collected[j])
        theta = float(np.percentile(vals, percentile)) if vals.size else 1.0
        spiking_ops[j].params["threshold"] = theta if theta > 0 else 1.0
