"""Keras 3 layers of LIF neurons over time: ``LIFDense``, ``LIFConv1D``, ``LIFConv2D``.

Each layer takes a sequence ``(N, T, ...)`` (time on axis 1, see :mod:`spykeflow.conventions`),
computes the synaptic currents of *all* time steps with one matmul/convolution (time folded into
the batch axis), then runs the neuron dynamics of :mod:`spykeflow.functional.lif` over time with
one scan (:func:`spykeflow._backend.scan`) -- so a whole forward pass compiles into one graph.
Written in ``keras.ops``: the layers run on the TensorFlow, JAX and PyTorch Keras backends.

Shapes::

    LIFDense    (N, T, F)        -> (N, T, units)
    LIFConv1D   (N, T, L, C)     -> (N, T, L', filters)
    LIFConv2D   (N, T, H, W, C)  -> (N, T, H', W', filters)

With ``return_sequences=False`` the time axis is reduced by ``readout``:

==================  ================  =============================================
readout             spiking=True      spiking=False (leaky-integrator output layer)
==================  ================  =============================================
``"mean"``          spike rate        mean membrane over time
``"sum"``           spike count       summed membrane
``"max"``           any spike (0/1)   max membrane over time
``"last"``          last step spikes  membrane at the last step
==================  ================  =============================================

Neuron arguments shared by all three layers:

* ``beta`` (float or per-channel list, in [0, 1]; default 0.9) and ``train_beta`` -- membrane
  decay; trainable values are kept in [0, 1] by a constraint and clipped in ``call``.
  ``beta=1`` gives integrate-and-fire.
* ``threshold`` (float or per-channel list, > 0; default 1.0) and ``train_threshold``.
* ``reset``: ``"subtract"`` (default), ``"zero"`` or ``"none"``; ``floor``: lower membrane bound
  as a multiple of the threshold (None; Safa et al. use -1); ``detach_reset``.
* ``alpha`` (None, float or per-channel list) and ``train_alpha``: synaptic-current decay.
* ``surrogate``: name, config dict or :class:`~spykeflow.functional.surrogate.Surrogate`
  (default ``"gaussian"``); subclasses may override ``spike_function`` to switch activation.
* ``spiking`` (True): False makes the layer a non-spiking leaky integrator (readout membrane).
* ``bits`` (None) and ``quant_axis`` (``"layer"`` or ``"channel"``), ``quant_mode``
  (``"max"``/``"unit"``): quantisation-aware training of the kernel (see
  :mod:`spykeflow.functional.quantize`); biases stay float.
* ``remat`` (False): recompute each time step in the backward pass instead of storing its
  activations (BPTT over long sequences in less memory, for about one extra forward pass of
  compute); outputs and gradients are unchanged.

Example::

    >>> layer = LIFDense(3, beta=0.5, kernel_initializer="ones", use_bias=False)
    >>> tuple(layer(np.ones((2, 4, 2), "float32")).shape)     # 2 samples, 4 steps, 2 inputs
    (2, 4, 3)
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import ops

from .._validation import (
    check_bool,
    check_float,
    check_floats,
    check_in,
    check_int,
    check_int_tuple,
)
from ..functional import lif as F
from ..functional import quantize as Q
from ..functional import surrogate as S

__all__ = ["LIFDense", "LIFConv1D", "LIFConv2D", "SequenceMaxPool", "SequenceFlatten", "READOUTS"]

#: Accepted values of ``readout``.
READOUTS = ("mean", "sum", "max", "last")
_QUANT_AXES = ("layer", "channel")


def _fold(x):
    """``(N, T, ...) -> (N*T, ...)``: time folded into the batch axis."""
    return ops.reshape(x, (-1,) + tuple(ops.shape(x)[2:]))


def _unfold(y, like):
    """``(N*T, ...) -> (N, T, ...)`` with ``N, T`` of ``like``."""
    lead = ops.shape(like)[:2]
    return ops.reshape(y, tuple(lead) + tuple(ops.shape(y)[1:]))


class _Clip01(keras.constraints.Constraint):
    """Keep a decay in [0, 1] after each optimiser step."""

    def __call__(self, w):
        return keras.ops.clip(w, 0.0, 1.0)


class _LIFBase(keras.layers.Layer):
    """Shared neuron logic; subclasses define the synaptic operator."""

    #: Rank of one time step's input without the batch axis (1: F, 2: (L, C), 3: (H, W, C)).
    _step_rank = 1

    def __init__(
        self,
        *,
        beta: float | list[float] = 0.9,
        train_beta: bool = False,
        threshold: float | list[float] = 1.0,
        train_threshold: bool = False,
        reset: str = "subtract",
        floor: float | None = None,
        detach_reset: bool = False,
        alpha: float | list[float] | None = None,
        train_alpha: bool = False,
        surrogate: str | dict | S.Surrogate = "gaussian",
        spiking: bool = True,
        return_sequences: bool = True,
        readout: str = "mean",
        bits: int | None = None,
        quant_axis: str = "layer",
        quant_mode: str = "max",
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        remat: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.beta = check_floats(beta, "beta", 0.0, 1.0)
        self.threshold = check_floats(threshold, "threshold", low=0.0, low_open=True)
        self.alpha = None if alpha is None else check_floats(alpha, "alpha", 0.0, 1.0)
        self.reset = check_in(reset, "reset", F.RESETS)
        # floor: a multiple of the threshold (Safa et al. clamp at -1 x threshold)
        self.floor = check_float(floor, "floor", high=0.0, allow_none=True)
        self.readout = check_in(readout, "readout", READOUTS)
        self.quant_axis = check_in(quant_axis, "quant_axis", _QUANT_AXES)
        self.quant_mode = check_in(quant_mode, "quant_mode", Q.SCALE_MODES)
        self.bits = None if bits is None else Q.check_bits(bits)
        self.train_beta = check_bool(train_beta, "train_beta")
        self.train_threshold = check_bool(train_threshold, "train_threshold")
        self.train_alpha = check_bool(train_alpha, "train_alpha")
        self.detach_reset = check_bool(detach_reset, "detach_reset")
        self.surrogate = S.get(surrogate)
        self.spiking = check_bool(spiking, "spiking")
        self.return_sequences = check_bool(return_sequences, "return_sequences")
        self.use_bias = check_bool(use_bias, "use_bias")
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.remat = check_bool(remat, "remat")

    # -- subclass interface -------------------------------------------------------------------
    @property
    def _n_out(self):
        raise NotImplementedError

    def _kernel_shape(self, in_channels):
        raise NotImplementedError

    def _step_output_shape(self, step_shape):
        raise NotImplementedError

    def _synapse(self, x, kernel):
        raise NotImplementedError

    # -- Keras anatomy ------------------------------------------------------------------------
    def _check_input_shape(self, input_shape):
        want = self._step_rank + 2
        if len(input_shape) != want:
            raise ValueError(
                f"{type(self).__name__} expects inputs of rank {want} {self._layout}. "
                f"Received: input_shape={tuple(input_shape)}."
            )
        if input_shape[1] is not None and input_shape[1] < 1:
            raise ValueError(
                f"{type(self).__name__} expects at least one time step (axis 1). "
                f"Received: input_shape={tuple(input_shape)}."
            )
        if input_shape[-1] is None:
            raise ValueError(
                f"{type(self).__name__} needs a known channel/feature size (last axis). "
                f"Received: input_shape={tuple(input_shape)}."
            )

    def _channel_weight(self, name, value, trainable, constraint=None):
        n = self._n_out
        if isinstance(value, list) and len(value) != n:
            raise ValueError(
                f"Expected {name} to be a float or a list of {n} values (one per channel). "
                f"Received: {len(value)} values."
            )
        init = np.broadcast_to(np.asarray(value, "float32"), (n,)).copy()
        return self.add_weight(
            name=name,
            shape=(n,),
            initializer=keras.initializers.Constant(init),
            trainable=trainable,
            constraint=constraint,
        )

    def build(self, input_shape):
        self._check_input_shape(input_shape)
        self.kernel = self.add_weight(
            name="kernel",
            shape=self._kernel_shape(int(input_shape[-1])),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
        )
        self.bias = (
            self.add_weight(name="bias", shape=(self._n_out,), initializer=self.bias_initializer)
            if self.use_bias
            else None
        )
        self.beta_w = self._channel_weight("beta", self.beta, self.train_beta, _Clip01())
        if self.alpha is not None:
            self.alpha_w = self._channel_weight("alpha", self.alpha, self.train_alpha, _Clip01())
        else:
            self.alpha_w = None
        if self.spiking:
            self.threshold_w = self._channel_weight(
                "threshold", self.threshold, self.train_threshold, keras.constraints.NonNeg()
            )
        else:
            self.threshold_w = None

    def spike_function(self) -> Any:
        """The spike non-linearity ``f(u - threshold)``; override to switch activations."""
        return self.surrogate

    def quantized_kernel(self) -> Any:
        """The kernel used in the forward pass (fake-quantised when ``bits`` is set)."""
        if self.bits is None:
            return self.kernel
        axis = -1 if self.quant_axis == "channel" else None
        return Q.fake_quantize(self.kernel, self.bits, axis=axis, mode=self.quant_mode)

    def neuron_params(self) -> F.LIFParams | F.LIParams:
        """The :class:`~spykeflow.functional.lif.LIFParams` (or ``LIParams``) of this layer."""
        beta = ops.clip(self.beta_w, 0.0, 1.0)
        alpha = None if self.alpha_w is None else ops.clip(self.alpha_w, 0.0, 1.0)
        if not self.spiking:
            return F.LIParams(beta=beta, alpha=alpha)
        return F.LIFParams(
            beta=beta,
            threshold=ops.maximum(self.threshold_w, 1e-6),
            reset=self.reset,
            alpha=alpha,
            spike_fn=self.spike_function(),
            floor=self.floor,
            detach_reset=self.detach_reset,
        )

    def currents(self, inputs: Any) -> Any:
        """Synaptic currents ``(N, T, ...)`` of every time step: one matmul/conv on N*T steps."""
        x = ops.cast(inputs, self.compute_dtype)
        folded = _fold(x)
        cur = self._synapse(folded, ops.cast(self.quantized_kernel(), x.dtype))
        if self.bias is not None:
            cur = cur + ops.cast(self.bias, x.dtype)
        return _unfold(cur, x)

    # `training` is unused; accepting it lets `stateless_call(x, training=...)` (JAX) call the
    # bare layer.
    def call(self, inputs, training=None):
        cur = self.currents(inputs)
        params = self.neuron_params()
        if self.spiking:
            out, _ = F.lif_sequence(cur, params, remat=self.remat)
        else:
            out, _ = F.li_sequence(cur, params, remat=self.remat)
        if self.return_sequences:
            return out
        if self.readout == "mean":
            return ops.mean(out, axis=1)
        if self.readout == "sum":
            return ops.sum(out, axis=1)
        if self.readout == "max":
            return ops.max(out, axis=1)
        return out[:, -1]

    def compute_output_shape(self, input_shape):
        step = tuple(self._step_output_shape(tuple(input_shape[2:])))
        if self.return_sequences:
            return (input_shape[0], input_shape[1]) + step
        return (input_shape[0],) + step

    def get_config(self):
        config = super().get_config()
        config.update(
            beta=self.beta,
            train_beta=self.train_beta,
            threshold=self.threshold,
            train_threshold=self.train_threshold,
            reset=self.reset,
            floor=self.floor,
            detach_reset=self.detach_reset,
            alpha=self.alpha,
            train_alpha=self.train_alpha,
            surrogate=self.surrogate.get_config(),
            spiking=self.spiking,
            return_sequences=self.return_sequences,
            readout=self.readout,
            bits=self.bits,
            quant_axis=self.quant_axis,
            quant_mode=self.quant_mode,
            use_bias=self.use_bias,
            kernel_initializer=keras.initializers.serialize(self.kernel_initializer),
            bias_initializer=keras.initializers.serialize(self.bias_initializer),
            kernel_regularizer=keras.regularizers.serialize(self.kernel_regularizer),
            remat=self.remat,
        )
        return config


@keras.saving.register_keras_serializable(package="spykeflow")
class LIFDense(_LIFBase):
    """Fully connected LIF layer: ``(N, T, F) -> (N, T, units)`` (see the module docstring).

    Parameters
    ----------
    units : int
        Number of neurons.
    **kwargs
        Neuron, readout and quantisation arguments of the module docstring, plus Keras
        layer arguments (``name``, ``dtype`` ...).
    """

    _step_rank = 1
    _layout = "(N, T, F)"

    def __init__(self, units: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.units = check_int(units, "units")

    @property
    def _n_out(self):
        return self.units

    def _kernel_shape(self, in_channels):
        return (in_channels, self.units)

    def _step_output_shape(self, step_shape):
        return (self.units,)

    def _synapse(self, x, kernel):
        return ops.matmul(x, kernel)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def _conv_len(size, k, s, padding):
    if size is None:
        return None
    if padding == "same":
        return -(-size // s)
    return (size - k) // s + 1


class _LIFConv(_LIFBase):
    _n_spatial = 2

    def __init__(self, filters: int, kernel_size: int | tuple[int, ...],
                 strides: int | tuple[int, ...] = 1, padding: str = "valid",
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.filters = check_int(filters, "filters")
        self.kernel_size = check_int_tuple(kernel_size, "kernel_size", self._n_spatial)
        self.strides = check_int_tuple(strides, "strides", self._n_spatial)
        self.padding = check_in(str(padding).lower(), "padding", ("valid", "same"))

    @property
    def _n_out(self):
        return self.filters

    def _kernel_shape(self, in_channels):
        return self.kernel_size + (in_channels, self.filters)

    def _step_output_shape(self, step_shape):
        spatial = tuple(
            _conv_len(size, k, s, self.padding)
            for size, k, s in zip(step_shape[:-1], self.kernel_size, self.strides)
        )
        return spatial + (self.filters,)

    def build(self, input_shape):
        self._check_input_shape(input_shape)
        out = self._step_output_shape(tuple(input_shape[2:]))
        if any(o is not None and o < 1 for o in out[:-1]):
            raise ValueError(
                f"{type(self).__name__}: kernel_size={self.kernel_size} does not fit the input "
                f"(spatial shape {tuple(input_shape[2:-1])}) with padding={self.padding!r}. "
                "Use a smaller kernel or padding='same'."
            )
        super().build(input_shape)

    def _synapse(self, x, kernel):
        return ops.conv(x, kernel, strides=self.strides, padding=self.padding,
                        data_format="channels_last")

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
        }


@keras.saving.register_keras_serializable(package="spykeflow")
class LIFConv2D(_LIFConv):
    """2-D convolutional LIF layer: ``(N, T, H, W, C) -> (N, T, H', W', filters)``.

    Parameters
    ----------
    filters : int
    kernel_size : int or (int, int)
    strides : int or (int, int)
    padding : {"valid", "same"}
    **kwargs
        Neuron, readout and quantisation arguments (module docstring) and Keras layer arguments.

    >>> layer = LIFConv2D(4, 3, padding="same")
    >>> tuple(layer(np.zeros((1, 5, 8, 8, 2), "float32")).shape)
    (1, 5, 8, 8, 4)
    """

    _step_rank = 3
    _n_spatial = 2
    _layout = "(N, T, H, W, C)"


@keras.saving.register_keras_serializable(package="spykeflow")
class LIFConv1D(_LIFConv):
    """1-D convolutional LIF layer for sequences of 1-D maps:
    ``(N, T, L, C) -> (N, T, L', filters)``.

    Arguments as :class:`LIFConv2D` with 1-D ``kernel_size`` and ``strides``.
    """

    _step_rank = 2
    _n_spatial = 1
    _layout = "(N, T, L, C)"


@keras.saving.register_keras_serializable(package="spykeflow")
class SequenceMaxPool(keras.layers.Layer):
    """Max-pool every time step of ``(N, T, H, W, C)`` or ``(N, T, L, C)`` (time folded into the
    batch: one pooling op, unlike ``keras.layers.TimeDistributed``, which maps over time).

    On spikes, max-pooling is an OR over each window (Safa et al. pool the conv spikes 2x2).

    >>> tuple(SequenceMaxPool(2)(np.ones((1, 3, 4, 4, 2), "float32")).shape)
    (1, 3, 2, 2, 2)
    """

    def __init__(self, pool_size: int = 2, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pool_size = check_int(pool_size, "pool_size")

    def build(self, input_shape):
        if len(input_shape) not in (4, 5):
            raise ValueError(
                "SequenceMaxPool expects (N, T, L, C) or (N, T, H, W, C). "
                f"Received: input_shape={tuple(input_shape)}."
            )

    def call(self, inputs, training=None):
        k = self.pool_size
        pooled = ops.max_pool(_fold(inputs), k, strides=k, padding="valid",
                              data_format="channels_last")
        return _unfold(pooled, inputs)

    def compute_output_shape(self, input_shape):
        spatial = tuple(None if s is None else s // self.pool_size for s in input_shape[2:-1])
        return tuple(input_shape[:2]) + spatial + (input_shape[-1],)

    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size}


@keras.saving.register_keras_serializable(package="spykeflow")
class SequenceFlatten(keras.layers.Layer):
    """Flatten each time step: ``(N, T, d1, d2, ...) -> (N, T, d1*d2*...)`` (row-major).

    >>> tuple(SequenceFlatten()(np.ones((2, 3, 4, 5), "float32")).shape)
    (2, 3, 20)
    """

    def call(self, inputs, training=None):
        features = int(np.prod(inputs.shape[2:]))
        return ops.reshape(inputs, tuple(ops.shape(inputs)[:2]) + (features,))

    def compute_output_shape(self, input_shape):
        rest = input_shape[2:]
        n = None if any(s is None for s in rest) else int(np.prod(rest))
        return tuple(input_shape[:2]) + (n,)
