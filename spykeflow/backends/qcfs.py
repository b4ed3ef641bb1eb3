"""QCFS backend: a small VGG-style CNN trained with QCFS activations, converted to an IF-neuron SNN.

``Classifier(backend="qcfs", levels=8).fit(x, y)`` trains the ANN (Bu et al., ICLR 2022);
``predict(x)`` uses the ANN, ``predict(x, timesteps=T)`` the converted spiking network, whose
output is the read-out current averaged over ``T`` steps (see :mod:`spykeflow.conversion`).

``activation="relu"`` builds the same network with plain ReLUs and converts it by
percentile / max-activation normalisation (Diehl et al. 2015; Rueckauer et al. 2017), the
classic baseline QCFS is compared with.

Architecture (``widths=(16, 32)``, ``convs_per_block=2``)::

    [Conv3x3(w) -> BatchNorm -> act] x convs_per_block -> AvgPool2x2     for each w in widths
    Flatten -> [Dropout] -> Dense(dense_units) -> act -> Dense(n_classes)  (logits)

``act`` is QCFS(L=levels, phi=shift) or ReLU. Average pooling (not max pooling) as in Bu et al.,
because the rate of a spiking max is not the max of rates.

Inputs: images ``(N, H, W, C)`` float (e.g. in [0, 1]); for the SNN also frame sequences
``(N, T_in, H, W, C)`` (event frames, one per step), with ``input_scale`` multiplying them.
"""

from __future__ import annotations

import numbers

import numpy as np

from .._validation import NotFittedError, check_in
from .base import KerasBackend

__all__ = ["QCFSBackend"]


class QCFSBackend(KerasBackend):
    """Backend ``"qcfs"``: QCFS-trained VGG-style CNN + its IF-neuron conversion.

    Parameters
    ----------
    widths : sequence of int
        Channels of the conv blocks (one average pooling after each block).
    convs_per_block : int
    dense_units : int
        Hidden dense layer (0: none).
    levels : int
        QCFS quantisation steps ``L``.
    shift : float
        QCFS shift ``phi`` (initial membrane ``phi * theta`` in the SNN).
    initial_threshold : float
        Initial ``lambda`` of every QCFS layer.
    batch_norm : bool
        BatchNorm after each conv (folded into the conv at conversion).
    dropout : float
        Dropout before the hidden dense layer (ignored by the SNN).
    activation : {"qcfs", "relu"}
        ``"relu"``: the classic baseline, converted with data-based normalisation.
    percentile : float
        Percentile of ReLU activations used as thresholds (``activation="relu"`` only).
    calibration_size : int
        Training samples used for that normalisation.
    """

    name = "qcfs"
    input_kind = "any"

    def __init__(self, widths=(16, 32), convs_per_block=2, dense_units=128, levels=8, shift=0.5,
                 initial_threshold=2.0, batch_norm=True, dropout=0.0, activation="qcfs",
                 percentile=99.9, calibration_size=2000):
        if (isinstance(widths, (str, bytes)) or not hasattr(widths, "__len__") or not widths
                or not all(isinstance(w, numbers.Integral) and w > 0 for w in widths)):
            raise ValueError(
                f"Expected widths to be a non-empty sequence of positive ints. "
                f"Received: widths={widths!r}."
            )
        for name, val, lo in (("convs_per_block", convs_per_block, 1),
                              ("dense_units", dense_units, 0), ("levels", levels, 1),
                              ("calibration_size", calibration_size, 1)):
            if isinstance(val, bool) or not isinstance(val, numbers.Integral) or val < lo:
                raise ValueError(f"Expected {name} to be an integer >= {lo}. "
                                 f"Received: {name}={val!r}.")
        if not 0.0 <= float(shift) <= 1.0:
            raise ValueError(f"Expected shift in [0, 1]. Received: shift={shift!r}.")
        if not float(initial_threshold) > 0:
            raise ValueError(
                f"Expected initial_threshold > 0. Received: initial_threshold={initial_threshold!r}."
            )
        if not 0.0 <= float(dropout) < 1.0:
            raise ValueError(f"Expected dropout in [0, 1). Received: dropout={dropout!r}.")
        check_in(activation, "activation", ("qcfs", "relu"))
        if not 0 < float(percentile) <= 100:
            raise ValueError(f"Expected percentile in (0, 100]. Received: percentile={percentile!r}.")
        super().__init__(
            widths=[int(w) for w in widths], convs_per_block=int(convs_per_block),
            dense_units=int(dense_units), levels=int(levels), shift=float(shift),
            initial_threshold=float(initial_threshold), batch_norm=bool(batch_norm),
            dropout=float(dropout), activation=activation, percentile=float(percentile),
            calibration_size=int(calibration_size),
        )
        self._snn = None  # (model id, SpikingModel)

    # --------------------------------------------------------------------------------------
    def _act(self, name):
        import keras

        from ..layers.qcfs import QCFS

        p = self.params
        if p["activation"] == "relu":
            return keras.layers.ReLU(name=name)
        return QCFS(levels=p["levels"], shift=p["shift"],
                    initial_threshold=p["initial_threshold"], name=name)

    def build_model(self, input_shape, n_classes, seed):
        """VGG-style CNN ``(H, W, C) -> logits (n_classes,)``; weights seeded from ``seed``."""
        import keras

        input_shape = tuple(int(d) for d in input_shape)
        if len(input_shape) != 3:
            raise ValueError(
                f"Backend 'qcfs' expects images (N, H, W, C). Received: input_shape={input_shape} "
                "(without the batch axis). Add a channel axis with x[..., None]."
            )
        p = self.params
        seeds = iter(range(int(seed) * 1000, int(seed) * 1000 + 1000))

        def init():
            return keras.initializers.HeNormal(seed=next(seeds))

        layers = [keras.Input(input_shape)]
        for b, width in enumerate(p["widths"]):
            for c in range(p["convs_per_block"]):
                layers.append(keras.layers.Conv2D(
                    width, 3, padding="same", use_bias=not p["batch_norm"],
                    kernel_initializer=init(), name=f"conv{b + 1}_{c + 1}"))
                if p["batch_norm"]:
                    layers.append(keras.layers.BatchNormalization(name=f"bn{b + 1}_{c + 1}"))
                layers.append(self._act(f"act{b + 1}_{c + 1}"))
            layers.append(keras.layers.AveragePooling2D(2, name=f"pool{b + 1}"))
        layers.append(keras.layers.Flatten(name="flatten"))
        if p["dropout"] > 0:
            layers.append(keras.layers.Dropout(p["dropout"], seed=next(seeds), name="dropout"))
        if p["dense_units"]:
            layers.append(keras.layers.Dense(p["dense_units"], kernel_initializer=init(),
                                             name="fc"))
            layers.append(self._act("act_fc"))
        layers.append(keras.layers.Dense(int(n_classes), kernel_initializer=init(),
                                         name="logits"))
        return keras.Sequential(layers, name=f"qcfs_vgg_{p['activation']}")

    # --------------------------------------------------------------------------------------
    def after_fit(self, model, x, y, seed):
        """Convert the trained ANN (QCFS: data-free; ReLU: thresholds from ``x``)."""
        self.convert(model, x, seed)

    def convert(self, model, x=None, seed=0):
        """Convert ``model`` (and cache the result); ``x`` is needed for ``activation='relu'``."""
        from ..conversion import convert

        calib = None
        if self.params["activation"] == "relu":
            if x is None:
                raise NotFittedError(
                    "The ReLU network needs calibration data for its conversion: call "
                    "fit(...) (or backend.convert(model, x_train)) before predict(timesteps=...)."
                )
            n = min(len(x), self.params["calibration_size"])
            idx = np.random.default_rng(seed).choice(len(x), n, replace=False)
            calib = np.asarray(x)[np.sort(idx)]
        snn = convert(model, calibration=calib, percentile=self.params["percentile"])
        self._snn = (id(model), snn)
        return snn

    def spiking_model(self, model):
        """The :class:`~spykeflow.conversion.SpikingModel` of ``model`` (converted on demand for
        QCFS networks, e.g. after loading a saved Classifier)."""
        if self._snn is not None and self._snn[0] == id(model):
            return self._snn[1]
        return self.convert(model)

    def predict_logits(self, model, x, batch_size, timesteps=None, input_scale=1.0):
        """ANN logits (``timesteps=None``) or the SNN's mean output over ``timesteps`` steps.

        Parameters
        ----------
        x : ndarray (N, H, W, C), or (N, T_in, H, W, C) frames for the SNN
        timesteps : int, optional
        input_scale : float
            Multiplies frame sequences inside the SNN loop (e.g. to turn event counts into the
            normalised currents the ANN was trained on).
        """
        if timesteps is None:
            if np.ndim(x) != 4:
                raise ValueError(
                    "The ANN takes images (N, H, W, C); frame sequences need timesteps=T. "
                    f"Received: x.shape={np.shape(x)}."
                )
            return np.asarray(model.predict(x, batch_size=batch_size, verbose=0))
        snn = self.spiking_model(model)
        return snn.simulate(x, timesteps, batch_size=batch_size, scale=input_scale)[0]

    def predict_curve(self, model, x, timesteps, record, batch_size=128, input_scale=1.0,
                      progress=False):
        """SNN mean outputs ``(len(record), N, n_classes)`` at each recorded ``T`` in one run."""
        snn = self.spiking_model(model)
        return snn.simulate(x, timesteps, record=record, batch_size=batch_size,
                            scale=input_scale, progress=progress)

    def custom_objects(self):
        from ..layers.qcfs import QCFS

        return {"spykeflow>QCFS": QCFS}
