"""Switchable LIF layers for STS training (Samadzadeh et al., sections 3.1 and 4.1).

The paper trains a spiking network in two phases without changing its weights or graph:

* **"ann" phase** (first ``n`` epochs): no rest mechanism and the *shifted leaky-ReLU*
  activation (their Eqs. 6-7)::

      U[t] = alpha U[t-1] + g(O_in[t])
      f(U) = U            if U >= T
             -beta U      if U <  T          (beta: "a small constant near zero")

* **"snn" phase** (afterwards): the step activation with a Gaussian surrogate derivative
  ``N(T, 1/6)`` and, if enabled, the rest mechanism (their Eqs. 1 and 4)::

      U[t] = alpha (1 - O[t-1]) U[t-1] + g(O_in[t])
      O[t] = 1 if U[t] >= T else 0

The layers here hold the phase in two non-trainable scalar weights read inside ``call``
(``sts_spiking`` and ``sts_rest``, 0.0 or 1.0), so :func:`set_mode` (and the :class:`STSSwitch`
callback) flips a compiled model between the phases without rebuilding or retracing it. The
mode is saved with the weights, so a saved model reloads in the phase it was saved in.

Naming: to stay consistent with :mod:`spykeflow.functional.lif`, the paper's decay ``alpha`` is
``beta`` here (membrane decay, default 0.5) and the paper's leak slope ``beta`` is ``slope``
(default 0.01); the paper's threshold ``T`` is ``threshold`` (default 0.5). The dynamics are
:func:`spykeflow.functional.lif.lif_sequence` with ``reset="zero"`` (rest) or ``"none"`` (no
rest) and a spike function that mixes the step surrogate and the shifted leaky-ReLU.

Layers (time on axis 1, see :mod:`spykeflow.conventions`):

* :class:`STSSynapse` -- weightless: currents ``(N, T, ...)`` -> activations ``(N, T, ...)``;
  the paper's "synapse" (thresholding activation) after a layer or on the raw input;
* :class:`STSConv2D` -- :class:`~spykeflow.layers.lif.LIFConv2D` with switchable dynamics;
* :class:`STSDense` -- :class:`~spykeflow.layers.lif.LIFDense` with switchable dynamics
  (``return_sequences=False, readout="mean"`` gives the paper's fire-rate output, Eq. 5).

``ann_activation="spike"`` keeps the step function in the "ann" phase too; the paper does this
for the output layer ("all layers but the output layer" switch to the leaky-ReLU).

Example::

    >>> syn = STSSynapse(threshold=0.5, beta=0.5, mode="ann")
    >>> x = np.array([[[0.2], [0.6], [0.1]]], "float32")        # (N=1, T=3, F=1)
    >>> np.round(keras.ops.convert_to_numpy(syn(x))[0, :, 0], 4).tolist()   # U = .2, .7, .45
    [-0.002, 0.7, -0.0045]
    >>> set_mode(syn, "snn")
    >>> keras.ops.convert_to_numpy(syn(x))[0, :, 0].tolist()
    [0.0, 1.0, 0.0]
"""

from __future__ import annotations

import logging
from typing import Any

import keras
import numpy as np  # noqa: F401  (the doctests use it)
from keras import ops

from .._validation import check_bool, check_float, check_in, check_int
from ..functional import lif as F
from ..functional import surrogate as S
from .lif import READOUTS, LIFConv2D, LIFDense

__all__ = [
    "MODES",
    "ANN_ACTIVATIONS",
    "DEFAULT_SURROGATE",
    "shifted_leaky_relu",
    "sts_sequence",
    "STSSynapse",
    "STSConv2D",
    "STSDense",
    "STSSwitch",
    "set_mode",
    "get_mode",
    "sts_layers",
]

logger = logging.getLogger("spykeflow.sts")

#: Training phases: shifted leaky-ReLU without rest ("ann"), spikes with optional rest ("snn").
MODES = ("ann", "snn")
#: Activations of the "ann" phase.
ANN_ACTIVATIONS = ("shifted_leaky_relu", "spike")
#: The paper's surrogate: Gaussian N(threshold, 1/6) of the membrane (sigma = 1/6).
DEFAULT_SURROGATE = {"name": "gaussian", "sigma": 1.0 / 6.0}


def shifted_leaky_relu(u: Any, threshold: Any, slope: float) -> Any:
    """The paper's Eq. 7: ``u`` where ``u >= threshold``, ``-slope * u`` elsewhere.

    Its derivative is 1 above the threshold and ``-slope`` below (exact, no surrogate).

    >>> u = np.array([-1.0, 0.2, 0.5, 2.0], "float32")
    >>> np.round(keras.ops.convert_to_numpy(shifted_leaky_relu(u, 0.5, 0.1)), 3).tolist()
    [0.1, -0.02, 0.5, 2.0]
    """
    u = ops.convert_to_tensor(u)
    return ops.where(u >= threshold, u, -slope * u)


def sts_sequence(currents: Any, params: F.LIFParams, spiking: Any, rest: Any, slope: float = 0.01,
                 ann_activation: str = "shifted_leaky_relu", remat: bool = False) -> Any:
    """Run the switchable LIF dynamics over axis 1 of ``currents`` ``(N, T, ...)``.

    Parameters
    ----------
    currents : tensor ``(N, T, ...)``
        Synaptic input ``g(O_in[t])`` of every time step.
    params : :class:`~spykeflow.functional.lif.LIFParams`
        ``beta`` (decay, the paper's alpha), ``threshold`` and ``spike_fn`` (the surrogate
        step); ``reset`` is ignored (chosen from ``rest``).
    spiking : scalar tensor/float, 0 or 1
        1: step activation (SNN phase); 0: ``ann_activation``.
    rest : scalar tensor/float, 0 or 1
        1: the rest mechanism ``U[t] = beta (1 - O[t-1]) U[t-1] + ...`` -- only applied when
        ``spiking`` is 1 (in the ANN phase there is never a rest).
    slope : float
        The leak slope of the shifted leaky-ReLU (the paper's beta).
    ann_activation : {"shifted_leaky_relu", "spike"}
    remat : bool
        Recompute each time step in the backward pass instead of storing its activations
        (:func:`~spykeflow.functional.lif.lif_sequence`); same outputs and gradients.

    Returns
    -------
    outputs : tensor ``(N, T, ...)``
        Spikes (0/1) in the SNN phase, leaky-ReLU values in the ANN phase.

    The phase is read from ``spiking``/``rest`` inside the computation (``keras.ops.cond``:
    ``tf.cond`` / ``jax.lax.cond``; a Python branch on PyTorch), so a compiled function
    switches phase without being retraced; only the active phase's branch runs.

    >>> p = F.LIFParams(beta=0.5, threshold=0.5, spike_fn=S.get("gaussian", sigma=1 / 6))
    >>> x = np.array([[[0.6], [0.4], [0.4]]], "float32")
    >>> out = sts_sequence(x, p, spiking=1.0, rest=1.0)                    # U: .6, .4, .6
    >>> keras.ops.convert_to_numpy(out)[0, :, 0].tolist()
    [1.0, 0.0, 1.0]
    >>> out = sts_sequence(x, p, spiking=1.0, rest=0.0)                    # U: .6, .7, .75
    >>> keras.ops.convert_to_numpy(out)[0, :, 0].tolist()
    [1.0, 1.0, 1.0]
    """
    check_in(ann_activation, "ann_activation", ANN_ACTIVATIONS)
    spike_fn = params.spike_fn if params.spike_fn is not None else S.get(DEFAULT_SURROGATE)
    theta = params.threshold
    spiking = ops.cast(spiking, "float32")
    rest = ops.cast(rest, "float32")

    if ann_activation == "spike":
        ann_fn = spike_fn
    else:
        def ann_fn(x):  # x = u - theta
            return shifted_leaky_relu(x + theta, theta, slope)

    def run(fn, reset):
        return F.lif_sequence(currents, params._replace(reset=reset, spike_fn=fn),
                              remat=remat)[0]

    # One branch per phase, so the SNN phase computes (and differentiates) only the spike
    # function and the ANN phase only its activation (a blend of both, weighted by
    # ``spiking``, cost the SNN phase the ANN activation's forward and backward work).
    return ops.cond(
        spiking > 0.5,
        lambda: ops.cond(rest > 0.5, lambda: run(spike_fn, "zero"),
                         lambda: run(spike_fn, "none")),
        lambda: run(ann_fn, "none"),
    )


class _STSState:
    """Mode handling shared by the STS layers (the two switch variables and ``set_mode``).

    A mixin for Keras layers: ``built`` and ``add_weight`` come from ``keras.layers.Layer``.
    """

    built: bool
    add_weight: Any

    def _init_sts(self, rest, slope, ann_activation, mode):
        self.rest = check_bool(rest, "rest")
        self.slope = check_float(slope, "slope", 0.0, 1.0)
        self.ann_activation = check_in(ann_activation, "ann_activation", ANN_ACTIVATIONS)
        self.mode = check_in(mode, "mode", MODES)

    def _build_sts(self):
        snn = self.mode == "snn"
        self.sts_spiking = self.add_weight(
            name="sts_spiking", shape=(), trainable=False,
            initializer=keras.initializers.Constant(1.0 if snn else 0.0),
        )
        self.sts_rest = self.add_weight(
            name="sts_rest", shape=(), trainable=False,
            initializer=keras.initializers.Constant(1.0 if (snn and self.rest) else 0.0),
        )

    def set_mode(self, mode: str, rest: bool | None = None) -> None:
        """Switch this layer to ``"ann"`` or ``"snn"`` (see :func:`set_mode`)."""
        check_in(mode, "mode", MODES)
        if rest is not None:
            rest = check_bool(rest, "rest")
        if mode == "ann" and rest:
            raise ValueError(
                "The rest mechanism needs binary outputs and exists only in the 'snn' mode. "
                "Received: mode='ann', rest=True. Use rest=None or False in the 'ann' mode."
            )
        self.mode = mode
        rest_on = mode == "snn" and (self.rest if rest is None else bool(rest))
        if self.built:
            self.sts_spiking.assign(1.0 if mode == "snn" else 0.0)
            self.sts_rest.assign(1.0 if rest_on else 0.0)
        elif rest is not None:
            self.rest = bool(rest)

    def get_mode(self) -> str:
        """``"snn"`` or ``"ann"`` as currently stored in the switch variable."""
        if not self.built:
            return self.mode
        return "snn" if float(keras.ops.convert_to_numpy(self.sts_spiking)) > 0.5 else "ann"

    def rest_active(self) -> bool:
        """Whether the rest mechanism is currently applied."""
        if not self.built:
            return self.mode == "snn" and self.rest
        return float(keras.ops.convert_to_numpy(self.sts_rest)) > 0.5 and self.get_mode() == "snn"

    def _sts_config(self):
        return dict(rest=self.rest, slope=self.slope, ann_activation=self.ann_activation,
                    mode=self.get_mode())


@keras.saving.register_keras_serializable(package="spykeflow")
class STSSynapse(_STSState, keras.layers.Layer):
    """Weightless switchable LIF population (the paper's "synapse"): ``(N, T, ...)`` -> same.

    Parameters
    ----------
    threshold : float > 0, default 0.5
    beta : float in [0, 1], default 0.5
        Membrane decay (the paper's alpha).
    rest : bool, default False
        Use the rest mechanism in the "snn" phase (the paper's ConvSNN: off).
    slope : float in [0, 1], default 0.01
        Shifted leaky-ReLU slope below the threshold (the paper's beta).
    surrogate : str, dict or Surrogate, default Gaussian with sigma 1/6
    ann_activation : {"shifted_leaky_relu", "spike"}
    mode : {"ann", "snn"}, default "snn"
        Phase at construction; switch later with :func:`set_mode`.
    return_sequences : bool, default True
    readout : {"mean", "sum", "max", "last"}
        Reduction over time when ``return_sequences=False`` ("mean" = fire rate).
    remat : bool, default False
        Recompute each time step in the backward pass instead of storing its activations
        (less memory for long sequences, about one extra forward pass; same gradients).
    """

    def __init__(self, threshold: float = 0.5, beta: float = 0.5, rest: bool = False,
                 slope: float = 0.01, surrogate: str | dict | S.Surrogate | None = None,
                 ann_activation: str = "shifted_leaky_relu", mode: str = "snn",
                 return_sequences: bool = True, readout: str = "mean", remat: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.remat = check_bool(remat, "remat")
        self.threshold = check_float(threshold, "threshold", low=0.0, low_open=True)
        self.beta = check_float(beta, "beta", 0.0, 1.0)
        self.surrogate = S.get(DEFAULT_SURROGATE if surrogate is None else surrogate)
        self.return_sequences = check_bool(return_sequences, "return_sequences")
        self.readout = check_in(readout, "readout", READOUTS)
        self._init_sts(rest, slope, ann_activation, mode)

    def build(self, input_shape):
        if len(input_shape) < 3:
            raise ValueError(
                "STSSynapse expects sequences (N, T, ...) with time on axis 1. "
                f"Received: input_shape={tuple(input_shape)}."
            )
        self._build_sts()
        self.built = True

    # `training` is unused; accepting it lets `stateless_call(x, training=...)` (JAX) call the
    # bare layer.
    def call(self, inputs, training=None):
        x = ops.cast(inputs, self.compute_dtype)
        params = F.LIFParams(beta=self.beta, threshold=self.threshold, spike_fn=self.surrogate)
        out = sts_sequence(x, params, self.sts_spiking, self.sts_rest, self.slope,
                           self.ann_activation, remat=self.remat)
        return _readout(out, self.return_sequences, self.readout)

    def compute_output_shape(self, input_shape):
        if self.return_sequences:
            return tuple(input_shape)
        return (input_shape[0],) + tuple(input_shape[2:])

    def get_config(self):
        config = super().get_config()
        config.update(threshold=self.threshold, beta=self.beta,
                      surrogate=self.surrogate.get_config(),
                      return_sequences=self.return_sequences, readout=self.readout,
                      remat=self.remat, **self._sts_config())
        return config


def _readout(out, return_sequences, readout):
    if return_sequences:
        return out
    if readout == "mean":
        return ops.mean(out, axis=1)
    if readout == "sum":
        return ops.sum(out, axis=1)
    if readout == "max":
        return ops.max(out, axis=1)
    return out[:, -1]


class _STSLIF(_STSState):
    """Mixin turning a :mod:`spykeflow.layers.lif` layer into a switchable STS layer."""

    _lif_only = ("reset", "floor", "spiking", "detach_reset")

    def __init__(self, *args: Any, threshold: float = 0.5, beta: float = 0.5, rest: bool = False,
                 slope: float = 0.01, surrogate: str | dict | S.Surrogate | None = None,
                 ann_activation: str = "shifted_leaky_relu", mode: str = "snn",
                 **kwargs: Any) -> None:
        for key in self._lif_only:
            if key in kwargs:
                raise TypeError(
                    f"{type(self).__name__} does not take {key!r}: the dynamics are set by "
                    "rest= and the mode (reset to zero in the 'snn' phase when rest=True)."
                )
        surrogate = DEFAULT_SURROGATE if surrogate is None else surrogate
        # cooperative mixin: super() is the LIF layer (STSConv2D = _STSLIF + LIFConv2D)
        super().__init__(*args, threshold=threshold, beta=beta,  # type: ignore[call-arg]
                         reset="none", surrogate=surrogate, **kwargs)
        self._init_sts(rest, slope, ann_activation, mode)

    def build(self, input_shape):
        super().build(input_shape)
        self._build_sts()

    def call(self, inputs, training=None):
        cur = self.currents(inputs)
        out = sts_sequence(cur, self.neuron_params(), self.sts_spiking, self.sts_rest,
                           self.slope, self.ann_activation, remat=self.remat)
        return _readout(out, self.return_sequences, self.readout)

    def get_config(self):
        config = super().get_config()
        for key in self._lif_only:
            config.pop(key, None)
        config.update(self._sts_config())
        return config


@keras.saving.register_keras_serializable(package="spykeflow")
class STSConv2D(_STSLIF, LIFConv2D):
    """:class:`~spykeflow.layers.lif.LIFConv2D` with STS-switchable dynamics:
    ``(N, T, H, W, C) -> (N, T, H', W', filters)``.

    Takes the LIFConv2D arguments (``filters, kernel_size, strides, padding``, ``beta``,
    ``threshold``, ``train_beta`` ..., quantisation) except ``reset``/``floor``/``spiking``,
    plus ``rest``, ``slope``, ``ann_activation`` and ``mode`` of :class:`STSSynapse`. Defaults
    follow the paper: threshold 0.5, decay 0.5, Gaussian surrogate sigma 1/6, no rest.

    >>> layer = STSConv2D(4, 3, padding="same", mode="ann")
    >>> tuple(layer(np.zeros((1, 5, 8, 8, 1), "float32")).shape), layer.get_mode()
    ((1, 5, 8, 8, 4), 'ann')
    """


@keras.saving.register_keras_serializable(package="spykeflow")
class STSDense(_STSLIF, LIFDense):
    """:class:`~spykeflow.layers.lif.LIFDense` with STS-switchable dynamics:
    ``(N, T, F) -> (N, T, units)`` (or ``(N, units)`` with ``return_sequences=False``).

    Arguments as :class:`STSConv2D` with ``units`` instead of the convolution arguments.
    """


# ---------------------------------------------------------------------------------------------
def sts_layers(model: keras.layers.Layer) -> list:
    """All STS layers of ``model`` (a layer or a model; nested models are searched)."""
    found, seen = [], set()

    def visit(layer):
        if id(layer) in seen:
            return
        seen.add(id(layer))
        if isinstance(layer, _STSState):
            found.append(layer)
        for sub in getattr(layer, "layers", []) or []:
            visit(sub)
        inner = getattr(layer, "layer", None)  # TimeDistributed / wrappers
        if isinstance(inner, keras.layers.Layer):
            visit(inner)

    visit(model)
    return found


def set_mode(model: keras.layers.Layer, mode: str, rest: bool | None = None) -> None:
    """Switch every STS layer of ``model`` to ``mode`` without rebuilding it.

    Parameters
    ----------
    model : keras.Model or keras.layers.Layer
    mode : {"ann", "snn"}
        ``"ann"``: shifted leaky-ReLU (layers with ``ann_activation="spike"`` keep the step)
        and no rest; ``"snn"``: step activation with surrogate and the rest of every layer
        built with ``rest=True``.
    rest : None or bool
        Override the rest mechanism of all layers in the "snn" mode (None: each layer's own).

    Raises
    ------
    ValueError
        For an unknown mode, ``rest=True`` with ``mode="ann"``, or a model without STS layers.
    """
    check_in(mode, "mode", MODES)
    layers = sts_layers(model)
    if not layers:
        raise ValueError(
            f"Expected a model with STS layers (STSSynapse, STSConv2D, STSDense). Received: "
            f"{type(model).__name__} {getattr(model, 'name', '')!r} without any."
        )
    for layer in layers:
        layer.set_mode(mode, rest=rest)


def get_mode(model: keras.layers.Layer) -> str:
    """The mode of ``model``'s STS layers: ``"ann"``, ``"snn"`` or ``"mixed"``."""
    modes = {layer.get_mode() for layer in sts_layers(model)}
    if not modes:
        raise ValueError(
            f"Expected a model with STS layers. Received: {type(model).__name__} without any."
        )
    return modes.pop() if len(modes) == 1 else "mixed"


class STSSwitch(keras.callbacks.Callback):
    """Keras callback of STS training: "ann" phase for ``switch_epoch`` epochs, then "snn".

    At the start of training the model is put into the "ann" mode (if ``switch_epoch > 0``);
    at the beginning of epoch ``switch_epoch`` (0-based) it is switched to the "snn" mode.
    ``switch_epoch=0`` is plain BPTT from the start. Every epoch's logs get ``sts_snn``
    (0.0 during the ANN phase, 1.0 after the switch), so the switch is in ``History``; the
    switch itself is logged at INFO level on the ``spykeflow.sts`` logger.

    Parameters
    ----------
    switch_epoch : int >= 0 or None
        Number of pre-training epochs (the paper: about 50 of >100 on the synthetic sequences).
        None: ``round(fraction * epochs)`` of the ``fit`` call.
    rest : None or bool
        Override of the rest mechanism in the "snn" phase (None: each layer's ``rest``).
    fraction : float in [0, 1], default 0.5
        Share of the epochs pre-trained when ``switch_epoch`` is None.

    Attributes
    ----------
    switched_at : int or None
        The epoch at which the switch happened in the last ``fit``.
    snn_epochs : list of float
        1.0 for every epoch of the last ``fit`` that ran in the "snn" mode, else 0.0 (the same
        values as the ``sts_snn`` logs, kept here for training loops that copy the logs).
    """

    def __init__(self, switch_epoch: int | None = None, rest: bool | None = None,
                 fraction: float = 0.5) -> None:
        super().__init__()
        self.switch_epoch = check_int(switch_epoch, "switch_epoch", minimum=0, allow_none=True)
        self.rest = None if rest is None else check_bool(rest, "rest")
        self.fraction = check_float(fraction, "fraction", 0.0, 1.0)
        self.switched_at: int | None = None
        self.snn_epochs: list[float] = []
        self._switch_at = self.switch_epoch

    def on_train_begin(self, logs=None):
        self.switched_at = None
        self.snn_epochs = []
        self._switch_at = self.switch_epoch
        if self._switch_at is None:
            epochs = int((self.params or {}).get("epochs") or 0)
            self._switch_at = int(round(self.fraction * epochs))
        if self._switch_at > 0:
            set_mode(self.model, "ann")
            logger.info("STS: pre-training with the shifted leaky-ReLU and no rest for %d epochs",
                        self._switch_at)
        else:
            set_mode(self.model, "snn", rest=self.rest)
            self.switched_at = 0

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self._switch_at and self.switched_at is None:
            set_mode(self.model, "snn", rest=self.rest)
            self.switched_at = epoch
            rest = any(layer.rest_active() for layer in sts_layers(self.model))
            logger.info("STS: switched to spikes%s at epoch %d (0-based)",
                        " with rest" if rest else " (no rest)", epoch)

    def on_epoch_end(self, epoch, logs=None):
        snn = 1.0 if get_mode(self.model) == "snn" else 0.0
        self.snn_epochs.append(snn)
        if logs is not None:
            logs["sts_snn"] = snn
