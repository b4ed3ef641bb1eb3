"""QCFS backend: a small VGG-style CNN trained with QCFS activations, converted to an IF-neuron SNN.

``Classifier(backend="qcfs", backend_params={"levels": 8}).fit(x, y)`` trains the ANN (Bu et
al., ICLR 2022); ``predict(x)`` uses the ANN, ``predict(x, time_steps=T)`` the converted spiking
network, whose output is the read-out current averaged over ``T`` steps (see
:mod:`spykeflow.conversion`).

``activation="relu"`` builds the same network with plain ReLUs and converts it by
percentile / max-activation normalisation (Diehl et al. 2015; Rueckauer et al. 2017), the
classic baseline QCFS is compared with.

Architecture (``filters=(16, 32)``, ``convs_per_block=2``)::

    [Conv3x3(f) -> BatchNorm -> act] x convs_per_block -> AvgPool2x2     for each f in filters
    Flatten -> [Dropout] -> [Dense(h) -> act for each h in hidden] -> Dense(n_classes)  (logits)

``act`` is QCFS(L=levels, phi=shift) or ReLU. Average pooling (not max pooling) as in Bu et al.,
because the rate of a spiking max is not the max of rates.

Inputs: images ``(N, H, W, C)`` float (e.g. in [0, 1]); for the SNN also frame sequences
``(N, T_in, H, W, C)`` (event frames, one per step), with ``input_scale`` multiplying them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .._validation import (
    NotFittedError,
    check_bool,
    check_float,
    check_in,
    check_int,
    check_int_list,
    is_int,
)
from .base import KerasBackend

__all__ = ["QCFSBackend"]


class QCFSBackend(KerasBackend):
    """Backend ``"qcfs"``: QCFS-trained VGG-style CNN + its IF-neuron conversion.

    Parameters
    ----------
    filters : int or sequence of int
        Filters of the convolutions of each block (one average pooling after each block).
    convs_per_block : int
    hidden : int or sequence of int
        Units of the hidden dense layers (0 or ``()``: none).
    levels : int
        QCFS quantisation steps ``L``.
    shift : float
        QCFS shift ``phi`` (initial membrane ``phi * theta`` in the SNN).
    threshold : float
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

    def __init__(self, filters: int | Sequence[int] = (16, 32), convs_per_block: int = 2,
                 hidden: int | Sequence[int] = 128, levels: int = 8, shift: float = 0.5,
                 threshold: float = 2.0, batch_norm: bool = True, dropout: float = 0.0,
                 activation: str = "qcfs", percentile: float = 99.9,
                 calibration_size: int = 2000) -> None:
        self.params = {
            "filters": check_int_list(filters, "filters"),
            "convs_per_block": check_int(convs_per_block, "convs_per_block"),
            "hidden": ([] if is_int(hidden) and hidden == 0
                       else check_int_list(hidden, "hidden", allow_empty=True)),
            "levels": check_int(levels, "levels"),
            "shift": check_float(shift, "shift", 0.0, 1.0),
            "threshold": check_float(threshold, "threshold", low=0.0, low_open=True),
            "batch_norm": check_bool(batch_norm, "batch_norm"),
            "dropout": check_float(dropout, "dropout", 0.0, 1.0, high_open=True),
            "activation": check_in(activation, "activation", ("qcfs", "relu")),
            "percentile": check_float(percentile, "percentile", 0.0, 100.0, low_open=True),
            "calibration_size": check_int(calibration_size, "calibration_size"),
        }
        self._snn: tuple[int, Any] | None = None  # (model id, SpikingModel)

    # --------------------------------------------------------------------------------------
    def _act(self, name):
        import keras

        from ..layers.qcfs import QCFS

        p = self.params
        if p["activation"] == "relu":
            return keras.layers.ReLU(name=name)
        return QCFS(levels=p["levels"], shift=p["shift"], threshold=p["threshold"], name=name)

    def build_model(self, input_shape: tuple, n_classes: int, seed: int) -> Any:
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
        for b, filters in enumerate(p["filters"]):
            for c in range(p["convs_per_block"]):
                layers.append(keras.layers.Conv2D(
                    filters, 3, padding="same", use_bias=not p["batch_norm"],
                    kernel_initializer=init(), name=f"conv{b + 1}_{c + 1}"))
                if p["batch_norm"]:
                    layers.append(keras.layers.BatchNormalization(name=f"bn{b + 1}_{c + 1}"))
                layers.append(self._act(f"act{b + 1}_{c + 1}"))
            layers.append(keras.layers.AveragePooling2D(2, name=f"pool{b + 1}"))
        layers.append(keras.layers.Flatten(name="flatten"))
        if p["dropout"] > 0:
            layers.append(keras.layers.Dropout(p["dropout"], seed=next(seeds), name="dropout"))
        for i, units in enumerate(p["hidden"]):
            tag = "" if i == 0 else str(i + 1)
            layers.append(keras.layers.Dense(units, kernel_initializer=init(), name=f"fc{tag}"))
            layers.append(self._act(f"act_fc{tag}"))
        layers.append(keras.layers.Dense(int(n_classes), kernel_initializer=init(),
                                         name="logits"))
        return keras.Sequential(layers, name=f"qcfs_vgg_{p['activation']}")

    # --------------------------------------------------------------------------------------
    def after_fit(self, model: Any, x: Any, y: Any, seed: int) -> None:
        """Convert the trained ANN (QCFS: data-free; ReLU: thresholds from ``x``)."""
        self.convert(model, x, seed)

    def convert(self, model: Any, x: Any = None, seed: int = 0,
                percentile: float | None = None) -> Any:
        """Convert ``model`` (and cache the result); ``x`` is needed for ``activation='relu'``.

        ``percentile`` replaces the backend's ``percentile`` for this conversion (e.g. 100 for
        the classic max normalisation of a ReLU network).
        """
        from ..conversion import convert

        calib = None
        if self.params["activation"] == "relu":
            if x is None:
                raise NotFittedError(
                    "The ReLU network needs calibration data for its conversion: call "
                    "fit(...) (or backend.convert(model, x_train)) before predict(time_steps=...)."
                )
            n = min(len(x), self.params["calibration_size"])
            idx = np.random.default_rng(seed).choice(len(x), n, replace=False)
            calib = np.asarray(x)[np.sort(idx)]
        if percentile is None:
            percentile = self.params["percentile"]
        else:
            percentile = check_float(percentile, "percentile", 0.0, 100.0, low_open=True)
        snn = convert(model, calibration=calib, percentile=percentile)
        self._snn = (id(model), snn)
        return snn

    def spiking_model(self, model: Any) -> Any:
        """The :class:`~spykeflow.conversion.SpikingModel` of ``model`` (converted on demand for
        QCFS networks, e.g. after loading a saved Classifier)."""
        if self._snn is not None and self._snn[0] == id(model):
            return self._snn[1]
        return self.convert(model)

    def predict_logits(self, model: Any, x: Any, batch_size: int, time_steps: int | None = None,
                       input_scale: float = 1.0, **options: Any) -> np.ndarray:
        """ANN logits (``time_steps=None``) or the SNN's mean output over ``time_steps`` steps.

        Parameters
        ----------
        x : ndarray (N, H, W, C), or (N, T_in, H, W, C) frames for the SNN
        time_steps : int, optional
        input_scale : float
            Multiplies frame sequences inside the SNN loop (e.g. to turn event counts into the
            normalised currents the ANN was trained on).
        """
        if options:
            raise TypeError("Backend 'qcfs' takes the prediction options 'time_steps' and "
                            f"'input_scale'. Received: {sorted(options)}.")
        if time_steps is None:
            if np.ndim(x) != 4:
                raise ValueError(
                    "The ANN takes images (N, H, W, C); frame sequences need time_steps=T. "
                    f"Received: x.shape={np.shape(x)}."
                )
            return np.asarray(model.predict(x, batch_size=batch_size, verbose=0))
        snn = self.spiking_model(model)
        return snn.simulate(x, time_steps, batch_size=batch_size, input_scale=input_scale)[0]

    def predict_curve(self, model: Any, x: Any, time_steps: int, record: Sequence[int],
                      batch_size: int = 128, input_scale: float = 1.0,
                      progress: bool = False) -> np.ndarray:
        """SNN mean outputs ``(len(record), N, n_classes)`` at each recorded ``T`` in one run."""
        snn = self.spiking_model(model)
        return snn.simulate(x, time_steps, record=record, batch_size=batch_size,
                            input_scale=input_scale, progress=progress)

    def custom_objects(self) -> dict[str, Any]:
        from ..layers.qcfs import QCFS

        return {"spykeflow>QCFS": QCFS}
