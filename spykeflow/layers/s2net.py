"""Keras layers of the s2net model (Zimmer et al.): spiking dense / convolutional layers with
Denève lateral connections and a time-averaged readout.

Each spiking layer computes the feed-forward currents of all time steps at once (one matmul or
one causal convolution over ``(time, space...)``), then runs the neuron dynamics of
:mod:`spykeflow.functional.s2net` in one scan over time (:func:`spykeflow._backend.scan`).
Outputs are spike trains of 0./1. floats, time on axis 1 (see :mod:`spykeflow.conventions`).
Written in ``keras.ops``: the layers run on the TensorFlow, JAX and PyTorch backends.

Naming follows the spatial rank of one time step, the convolution always also spans time
(the paper's "1D (0D + time), 2D (1D + time), 3D (2D + time)"):

======================  ========================  ==========================  =================
layer                   input                     kernel                      convolution
======================  ========================  ==========================  =================
:class:`S2NetDense`     ``(N, T, F)``             ``(F, units)``              none (per step)
:class:`S2NetConv1D`    ``(N, T, L, C_in)``       ``(k_t, k_l, C_in, C)``     2-D over (T, L)
:class:`S2NetConv2D`    ``(N, T, H, W, C_in)``    ``(k_t, k_h, k_w, ...)``    3-D over (T, H, W)
======================  ========================  ==========================  =================

The time axis is padded causally (a neuron at step ``n`` sees inputs ``n - (k_t - 1) d_t ... n``;
the temporal kernel acts as conduction delays); space uses ``padding`` ("same" or "valid").

Trainable ``beta`` (one per layer, clipped to [0, 1]) and per-channel thresholds ``b`` (>= 0)
are held in range by Keras constraints, which the optimizer applies after every step. The spike
regulariser ``spike_regularization * 1/2 mean(S^2)`` is added with ``add_loss``.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from .._validation import check_bool, check_float, check_in, check_int, check_int_tuple
from ..functional import s2net as F
from ..functional import surrogate as _surrogate

__all__ = [
    "ClipConstraint",
    "S2NetDense",
    "S2NetConv1D",
    "S2NetConv2D",
    "S2NetReadout",
    "SPIKING_LAYERS",
]

_PKG = "spykeflow"


def _read(variable, bound):
    """The variable's value, with its gradient clipped to [-bound, bound] if bound is set."""
    if variable is None:
        return None
    # a tensor holding the value (cast to its own dtype: on TensorFlow a variable read)
    value = ops.cast(variable, variable.dtype)
    return value if bound is None else F.clip_gradient(value, bound)


@keras.saving.register_keras_serializable(package=_PKG)
class ClipConstraint(keras.constraints.Constraint):
    """Clip a weight to ``[min_value, max_value]`` after each optimizer step."""

    def __init__(self, min_value: float = 0.0, max_value: float = 1.0) -> None:
        self.min_value = check_float(min_value, "min_value")
        self.max_value = check_float(max_value, "max_value")
        if not self.min_value <= self.max_value:
            raise ValueError(
                f"Expected min_value <= max_value. Received: {min_value!r} > {max_value!r}."
            )

    def __call__(self, w):
        return ops.clip(w, self.min_value, self.max_value)

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value}


class _S2NetSpiking(keras.layers.Layer):
    """Shared machinery: beta, thresholds, lateral/recurrent options, scan and regulariser."""

    _spatial_rank = 0  # number of spatial axes between time and channels

    def __init__(
        self,
        lateral: bool = True,
        recurrent: bool = False,
        beta: float = 0.7,
        train_beta: bool = True,
        threshold: float = 1.0,
        train_threshold: bool = True,
        surrogate: str | dict | _surrogate.Surrogate = "sigmoid",
        spike_regularization: float = 0.0,
        eps: float = F.EPS,
        kernel_initializer: Any = None,
        recurrent_initializer: Any = "orthogonal",
        gradient_clip: float | None = None,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.gradient_clip = check_float(gradient_clip, "gradient_clip", low=0, low_open=True,
                                         allow_none=True)
        if kernel_initializer is None:
            # uniform(+-0.3/sqrt(fan_in)). The scale matters: a neuron fires when the projection
            # of its input on W_c / ||W_c|| reaches b ||W_c||, so larger weights fire less. With
            # PyTorch's +-1/sqrt(fan_in) the 2nd and 3rd layers are silent at initialisation on
            # sparse spike inputs (no surrogate gradient reaches them).
            kernel_initializer = keras.initializers.VarianceScaling(
                0.03, mode="fan_in", distribution="uniform"
            )
        self.lateral = check_bool(lateral, "lateral")
        self.recurrent = check_bool(recurrent, "recurrent")
        self.beta_init = check_float(beta, "beta", 0.0, 1.0)
        self.train_beta = check_bool(train_beta, "train_beta")
        self.threshold_init = check_float(threshold, "threshold", low=0.0)
        self.train_threshold = check_bool(train_threshold, "train_threshold")
        self.surrogate = _surrogate.get(surrogate)
        self.spike_regularization = check_float(spike_regularization, "spike_regularization",
                                                low=0.0)
        self.eps = check_float(eps, "eps", low=0.0)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.recurrent_initializer = keras.initializers.get(recurrent_initializer)
        self.seed = check_int(seed, "seed", minimum=None, allow_none=True)

    # -- weights ---------------------------------------------------------------------------
    def _init_with_seed(self, init, offset):
        if self.seed is None:
            return init
        config = init.get_config()
        if "seed" in config:
            config["seed"] = self.seed + offset
            return init.__class__.from_config(config)
        return init

    def _build_dynamics(self, channels):
        self.beta = self.add_weight(
            name="beta",
            shape=(),
            initializer=keras.initializers.Constant(self.beta_init),
            constraint=ClipConstraint(0.0, 1.0),
            trainable=self.train_beta,
        )
        self.threshold = self.add_weight(
            name="threshold",
            shape=(channels,),
            initializer=keras.initializers.Constant(self.threshold_init),
            constraint=keras.constraints.NonNeg(),
            trainable=self.train_threshold,
        )
        if self.recurrent:
            self.recurrent_kernel = self.add_weight(
                name="recurrent_kernel",
                shape=(channels, channels),
                initializer=self._init_with_seed(self.recurrent_initializer, 1),
            )
        else:
            self.recurrent_kernel = None

    def dynamics_params(self, kernel: Any = None) -> F.S2NetParams:
        """The :class:`~spykeflow.functional.s2net.S2NetParams` of the current weights."""
        clip = self.gradient_clip
        return F.s2net_params(
            _read(self.kernel, clip) if kernel is None else kernel,
            beta=_read(self.beta, clip),
            threshold=_read(self.threshold, clip),
            lateral=self.lateral,
            recurrent=_read(self.recurrent_kernel, clip),
            eps=self.eps,
        )

    # -- forward ---------------------------------------------------------------------------
    def _check_input(self, input_shape):
        want = 3 + self._spatial_rank
        if len(input_shape) != want:
            raise ValueError(
                f"{type(self).__name__} expects inputs of rank {want} "
                f"{self._layout}. Received: input_shape={tuple(input_shape)}."
            )
        if input_shape[-1] is None:
            raise ValueError(
                f"{type(self).__name__} needs a known channel/feature axis. "
                f"Received: input_shape={tuple(input_shape)}."
            )

    def currents(self, inputs: Any, kernel: Any = None) -> Any:
        """Feed-forward currents ``(N, T, ..., C)`` of all time steps."""
        raise NotImplementedError

    def call(self, inputs, training=None):
        x = ops.cast(inputs, self.compute_dtype)
        # read the kernel once so a gradient clip acts on its total gradient
        kernel = _read(self.kernel, self.gradient_clip)
        spikes = F.s2net_scan(
            self.currents(x, kernel), self.dynamics_params(kernel), self.surrogate
        )
        if self.spike_regularization > 0:
            self.add_loss(self.spike_regularization * F.spike_count_loss(spikes))
        return spikes

    def run(self, inputs: Any) -> tuple[Any, Any]:
        """Spikes and membrane potentials ``(N, T, ..., C)`` (for analysis; no loss added)."""
        if not self.built:
            self.build(tuple(inputs.shape))
        x = ops.cast(inputs, self.compute_dtype)
        return F.s2net_scan(
            self.currents(x), self.dynamics_params(), self.surrogate, return_potentials=True
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            lateral=self.lateral,
            recurrent=self.recurrent,
            beta=self.beta_init,
            train_beta=self.train_beta,
            threshold=self.threshold_init,
            train_threshold=self.train_threshold,
            surrogate=self.surrogate.get_config(),
            spike_regularization=self.spike_regularization,
            eps=self.eps,
            kernel_initializer=keras.initializers.serialize(self.kernel_initializer),
            recurrent_initializer=keras.initializers.serialize(self.recurrent_initializer),
            gradient_clip=self.gradient_clip,
            seed=self.seed,
        )
        return config


@keras.saving.register_keras_serializable(package=_PKG)
class S2NetDense(_S2NetSpiking):
    """Fully-connected s2net spiking layer: ``(N, T, F) -> (N, T, units)`` spikes.

    Parameters
    ----------
    units : int
        Number of neurons ``C`` (all share the receptive field, so with ``lateral=True`` they
        all reset each other through ``W^T W``).
    lateral, recurrent : bool
        Denève lateral reset (else self-reset by ``||W_c||^2``); recurrent weights ``V``.
    beta : float in [0, 1]
        Initial decay ``exp(-dt / tau_mem)``; trainable unless ``train_beta=False``; clipped
        to [0, 1] after each optimizer step.
    threshold : float >= 0
        Initial relative threshold ``b`` (per channel; the paper uses 1); kept >= 0.
    surrogate : str, dict or Surrogate
        Surrogate name or config (default the paper's ``sigmoid``, scale 10).
    spike_regularization : float >= 0
        Weight of ``1/2 mean(S^2)`` added to the model's loss.
    gradient_clip : float > 0, optional
        Clip the gradient of every weight of the layer to ``[-gradient_clip, gradient_clip]``
        (the paper clips at 5); works with any optimizer or training loop.
    kernel_initializer : initializer, optional
        Default uniform(+-0.3 / sqrt(fan_in)) (see the note in the source).
    seed : int, optional
        Seed of the weight initialisers.

    >>> import numpy as np
    >>> layer = S2NetDense(4, seed=0)
    >>> tuple(layer(np.ones((2, 5, 3), "float32")).shape)
    (2, 5, 4)
    """

    _layout = "(N, T, F)"

    def __init__(self, units: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.units = check_int(units, "units")

    def build(self, input_shape):
        self._check_input(input_shape)
        self.kernel = self.add_weight(
            name="kernel",
            shape=(int(input_shape[-1]), self.units),
            initializer=self._init_with_seed(self.kernel_initializer, 0),
        )
        self._build_dynamics(self.units)

    def currents(self, inputs: Any, kernel: Any = None) -> Any:
        kernel = self.kernel if kernel is None else kernel
        return ops.tensordot(inputs, kernel, axes=[[-1], [0]])

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


class _S2NetConv(_S2NetSpiking):
    """Causal-in-time convolution over ``(T, space...)`` followed by s2net dynamics."""

    def __init__(self, filters: int, kernel_size: int | tuple[int, ...],
                 dilation_rate: int | tuple[int, ...] = 1, padding: str = "same",
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        n = self._spatial_rank + 1  # time first, then the spatial axes
        self.filters = check_int(filters, "filters")
        self.kernel_size = check_int_tuple(kernel_size, "kernel_size", n)
        self.dilation_rate = check_int_tuple(dilation_rate, "dilation_rate", n)
        # the spatial axes' padding; time is always padded causally
        self.padding = check_in(padding, "padding", ("same", "valid"))

    def build(self, input_shape):
        self._check_input(input_shape)
        self.kernel = self.add_weight(
            name="kernel",
            shape=self.kernel_size + (int(input_shape[-1]), self.filters),
            initializer=self._init_with_seed(self.kernel_initializer, 0),
        )
        self._build_dynamics(self.filters)

    def _pads(self):
        pads = [[0, 0]]
        for axis, (k, d) in enumerate(zip(self.kernel_size, self.dilation_rate)):
            total = (k - 1) * d
            if axis == 0:
                pads.append([total, 0])  # causal in time
            elif self.padding == "same":
                pads.append([total // 2, total - total // 2])
            else:
                pads.append([0, 0])
        pads.append([0, 0])
        return pads

    def currents(self, inputs: Any, kernel: Any = None) -> Any:
        kernel = self.kernel if kernel is None else kernel
        x = ops.pad(inputs, self._pads())
        return ops.conv(x, kernel, strides=1, padding="valid", data_format="channels_last",
                        dilation_rate=self.dilation_rate)

    def compute_output_shape(self, input_shape):
        shape = [input_shape[0], input_shape[1]]
        for i, (k, d) in enumerate(zip(self.kernel_size[1:], self.dilation_rate[1:])):
            size = input_shape[2 + i]
            if size is not None and self.padding == "valid":
                size = size - (k - 1) * d
            shape.append(size)
        return tuple(shape) + (self.filters,)

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": list(self.kernel_size),
            "dilation_rate": list(self.dilation_rate),
            "padding": self.padding,
        }


@keras.saving.register_keras_serializable(package=_PKG)
class S2NetConv1D(_S2NetConv):
    """s2net convolutional layer over (time, 1 spatial axis): ``(N, T, L, C_in) -> (N, T, L', C)``.

    The lateral reset acts between the ``filters`` channels at each position (neurons with the
    same receptive field), with ``G = W~ W~^T`` over the vectorised ``(k_t, k_l, C_in)`` kernels.

    Parameters
    ----------
    filters : int
        Output channels ``C``.
    kernel_size, dilation_rate : int or (time, space) tuple
        Kernel extent and dilation; time is padded causally.
    padding : {"same", "valid"}
        Spatial padding.
    **kwargs
        Dynamics options of :class:`S2NetDense` (``lateral``, ``recurrent``, ``beta`` ...).

    >>> import numpy as np
    >>> layer = S2NetConv1D(8, (4, 3), dilation_rate=(2, 1), padding="valid", seed=0)
    >>> tuple(layer(np.ones((2, 10, 40, 3), "float32")).shape)
    (2, 10, 38, 8)
    """

    _spatial_rank = 1
    _layout = "(N, T, L, C)"


@keras.saving.register_keras_serializable(package=_PKG)
class S2NetConv2D(_S2NetConv):
    """s2net convolutional layer over (time, height, width): ``(N, T, H, W, C_in) -> (N, T, H',
    W', C)`` (the paper's "3D (2D + time)" convolution). Options as :class:`S2NetConv1D`.

    >>> import numpy as np
    >>> tuple(S2NetConv2D(2, (1, 3, 3), seed=0)(np.ones((1, 4, 5, 5, 2), "float32")).shape)
    (1, 4, 5, 5, 2)
    """

    _spatial_rank = 2
    _layout = "(N, T, H, W, C)"


@keras.saving.register_keras_serializable(package=_PKG)
class S2NetReadout(keras.layers.Layer):
    """Time-averaged readout: a time-distributed dense layer averaged over time (section 5.3.3).

    ``logits = 1/T sum_n (flatten(S[n]) @ W + bias)``; input ``(N, T, ...)``, output
    ``(N, units)``. No spikes, reset or lateral connections.

    >>> import numpy as np
    >>> tuple(S2NetReadout(10, seed=0)(np.ones((2, 7, 4, 3), "float32")).shape)
    (2, 10)
    """

    def __init__(self, units: int, use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", gradient_clip: float | None = None,
                 seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.gradient_clip = check_float(gradient_clip, "gradient_clip", low=0, low_open=True,
                                         allow_none=True)
        self.units = check_int(units, "units")
        self.use_bias = check_bool(use_bias, "use_bias")
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.seed = check_int(seed, "seed", minimum=None, allow_none=True)

    def build(self, input_shape):
        if len(input_shape) < 3:
            raise ValueError(
                "S2NetReadout expects inputs (N, T, ...) with rank >= 3. "
                f"Received: input_shape={tuple(input_shape)}."
            )
        features = 1
        for d in input_shape[2:]:
            if d is None:
                raise ValueError(
                    "S2NetReadout needs known non-time axes. "
                    f"Received: input_shape={tuple(input_shape)}."
                )
            features *= int(d)
        init = self.kernel_initializer
        if self.seed is not None and "seed" in init.get_config():
            init = init.__class__.from_config({**init.get_config(), "seed": self.seed})
        self.kernel = self.add_weight(name="kernel", shape=(features, self.units),
                                      initializer=init)
        self.bias = (
            self.add_weight(name="bias", shape=(self.units,), initializer="zeros")
            if self.use_bias
            else None
        )
        self._features = features

    def call(self, inputs, training=None):
        x = ops.cast(inputs, self.compute_dtype)
        shape = ops.shape(x)
        x = ops.reshape(x, (shape[0], shape[1], self._features))
        # mean over time commutes with the affine map: average first, one matmul.
        out = ops.matmul(ops.mean(x, axis=1), _read(self.kernel, self.gradient_clip))
        if self.bias is not None:
            out = out + _read(self.bias, self.gradient_clip)
        return out

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.units)

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "use_bias": self.use_bias,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "gradient_clip": self.gradient_clip,
            "seed": self.seed,
        }


#: The spiking layer classes (for collecting spikes / firing rates from a model).
SPIKING_LAYERS = (S2NetDense, S2NetConv1D, S2NetConv2D)
