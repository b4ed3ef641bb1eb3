"""ConvSNN backend: a convolutional LIF network trained by BPTT with surrogate gradients.

After Safa et al. 2021 ("ConvSNN: a surrogate gradient spiking neural framework for radar gesture
recognition", ``mini_eCNN``): LIF convolution -> 2x2 max-pool of the spikes -> LIF dense hidden
layer -> LIF output layer whose spike count is the class score, Gaussian surrogate, learned
thresholds, reset to zero with the membrane clamped at ``-threshold``, and quantisation-aware
training of the weights (4 bits by default, straight-through gradient).

Inputs are spike trains (or any real-valued sequences) with time on axis 1:

* ``(N, T, H, W, C)`` -- 2-D maps (event frames, InputLayer spikes, an STDP layer's spikes);
  the conv blocks use :class:`~spykeflow.layers.lif.LIFConv2D`;
* ``(N, T, L, C)`` -- 1-D maps, conv blocks use :class:`~spykeflow.layers.lif.LIFConv1D`;
* ``(N, T, F)`` -- feature sequences, only the dense layers are built.

Hyper-parameters (``Classifier(backend="convsnn", backend_params={...})``):

=====================  ==============  ========================================================
name                   default         meaning
=====================  ==============  ========================================================
``filters``            ``(12,)``       filters of each conv LIF block (Safa: 6)
``kernel_sizes``       ``(5,)``        kernel size of each block (Safa: 13 on 100x48 radar maps)
``pool``               ``2``           max-pool size after each block (1 = none)
``hidden``             ``(128,)``      units of the dense LIF hidden layers (Safa: 120)
``readout``            ``"count"``     ``"count"``/``"rate"``: output spikes summed/averaged over
                                       time (Safa: count); ``"membrane_mean"``,
                                       ``"membrane_last"``, ``"membrane_max"``: a non-spiking
                                       leaky-integrator output layer
``beta``               ``0.9``         membrane decay (1 = IF, Safa's released code)
``train_beta``         ``False``       learn one decay per channel (kept in [0, 1])
``threshold``          ``1.0``         initial threshold
``train_threshold``    ``True``        learn one threshold per channel (Safa: learned)
``reset``              ``"zero"``      ``"zero"``, ``"subtract"`` or ``"none"``
``floor``              ``-1.0``        membrane >= floor * threshold (None: unbounded)
``alpha``              ``None``        synaptic-current decay (None: current-based input)
``surrogate``          ``"gaussian"``  name or config dict (``{"name": "gaussian", "sigma": .5}``)
``bits``               ``4``           weight bits for quantisation-aware training (None: float)
``quant_axis``         ``"channel"``   ``"channel"`` (one scale per output neuron/map; it can be
                                       folded into that neuron's threshold and bias, so the
                                       spiking layers run on pure integers) or ``"layer"``
``quant_mode``         ``"max"``       ``"max"`` (scale = max|w|/q_max) or ``"unit"`` (grid on
                                       [-1, 1])
``padding``            ``"valid"``     convolution padding
``remat``              ``False``       recompute each time step in the backward pass instead of
                                       storing it (BPTT over long sequences in less memory, for
                                       about one extra forward pass; same results)
=====================  ==============  ========================================================

``predict_logits(model, x, batch_size, quantized=True)`` evaluates the quantised network (what
was trained); ``quantized=False`` evaluates the same weights in float.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

from .._validation import check_bool, check_float, check_floats, check_in, check_int, check_int_list
from ..functional import lif as F
from ..functional import quantize as Q
from ..functional import surrogate as S
from ..layers.lif import LIFConv1D, LIFConv2D, LIFDense, SequenceFlatten, SequenceMaxPool
from ..layers.quantize import export_quantized, with_bits
from .base import KerasBackend

__all__ = ["ConvSNNBackend", "READOUTS"]

#: Values of ``readout``.
READOUTS = ("count", "rate", "membrane_mean", "membrane_last", "membrane_max")


class ConvSNNBackend(KerasBackend):
    """Safa et al.'s ``mini_eCNN`` convolutional LIF network (the parameters are described in the
    module docstring)."""

    name = "convsnn"
    input_kind = "sequence"

    def __init__(
        self,
        filters: int | Sequence[int] = (12,),
        kernel_sizes: int | Sequence[int] = (5,),
        pool: int = 2,
        hidden: int | Sequence[int] = (128,),
        readout: str = "count",
        beta: float | Sequence[float] = 0.9,
        train_beta: bool = False,
        threshold: float | Sequence[float] = 1.0,
        train_threshold: bool = True,
        reset: str = "zero",
        floor: float | None = -1.0,
        alpha: float | Sequence[float] | None = None,
        surrogate: str | dict = "gaussian",
        bits: int | None = 4,
        quant_axis: str = "channel",
        quant_mode: str = "max",
        padding: str = "valid",
        remat: bool = False,
    ) -> None:
        filters = check_int_list(filters, "filters", allow_empty=True)
        kernel_sizes = check_int_list(kernel_sizes, "kernel_sizes", allow_empty=True)
        if len(kernel_sizes) == 1 and len(filters) > 1:
            kernel_sizes = kernel_sizes * len(filters)
        if filters and len(kernel_sizes) != len(filters):
            raise ValueError(
                "Expected one kernel size per conv block (or a single one for all). Received: "
                f"filters={filters}, kernel_sizes={kernel_sizes}."
            )
        self.params = {
            "filters": filters,
            "kernel_sizes": kernel_sizes,
            "pool": check_int(pool, "pool"),
            "hidden": check_int_list(hidden, "hidden", allow_empty=True),
            "readout": check_in(readout, "readout", READOUTS),
            # neuron arguments, validated as the LIF layers do
            "beta": check_floats(beta, "beta", 0.0, 1.0),
            "train_beta": check_bool(train_beta, "train_beta"),
            "threshold": check_floats(threshold, "threshold", low=0.0, low_open=True),
            "train_threshold": check_bool(train_threshold, "train_threshold"),
            "reset": check_in(reset, "reset", F.RESETS),
            "floor": check_float(floor, "floor", high=0.0, allow_none=True),
            "alpha": None if alpha is None else check_floats(alpha, "alpha", 0.0, 1.0),
            "surrogate": S.get(surrogate).get_config(),  # validates the name/parameters
            "bits": None if bits is None else Q.check_bits(bits),
            "quant_axis": check_in(quant_axis, "quant_axis", ("layer", "channel")),
            "quant_mode": check_in(quant_mode, "quant_mode", Q.SCALE_MODES),
            "padding": check_in(padding, "padding", ("valid", "same")),
            "remat": check_bool(remat, "remat"),
        }

    # ------------------------------------------------------------------------------------------
    def _neuron_kwargs(self, spiking: bool) -> dict[str, Any]:
        p = self.params
        kw = dict(
            beta=p["beta"],
            train_beta=p["train_beta"],
            alpha=p["alpha"],
            surrogate=p["surrogate"],
            bits=p["bits"],
            quant_axis=p["quant_axis"],
            quant_mode=p["quant_mode"],
            remat=p["remat"],
        )
        if spiking:
            kw.update(
                threshold=p["threshold"],
                train_threshold=p["train_threshold"],
                reset=p["reset"],
                floor=p["floor"],
            )
        # Per-channel lists only make sense for one layer size; use their mean elsewhere.
        for key in ("beta", "threshold", "alpha"):
            if isinstance(kw.get(key), list):
                kw[key] = float(np.mean(kw[key]))
        return kw

    def check_input(self, x: np.ndarray) -> None:
        x = np.asarray(x)
        if x.ndim not in (3, 4, 5):
            raise ValueError(
                "Backend 'convsnn' expects sequences (N, T, F), (N, T, L, C) or (N, T, H, W, C) "
                f"with time on axis 1. Received: shape={x.shape}. Add a channel axis for one "
                "channel (x[..., None])."
            )
        if x.shape[1] < 1:
            raise ValueError(
                "Backend 'convsnn' expects at least one time step (axis 1). "
                f"Received: shape={x.shape}."
            )
        if np.issubdtype(x.dtype, np.floating) and not np.isfinite(x).all():
            raise ValueError(
                "Backend 'convsnn' expects finite inputs. Received "
                f"{int((~np.isfinite(x)).sum())} NaN/inf values."
            )

    def build_model(self, input_shape: tuple, n_classes: int, seed: int) -> keras.Model:
        """Uncompiled ``keras.Model``: ``(batch,) + input_shape`` spikes -> logits
        ``(batch, n_classes)``."""
        input_shape = tuple(int(s) for s in input_shape)
        self.check_input(np.zeros((1,) + input_shape, np.float32))
        n_classes = int(n_classes)
        if n_classes < 2:
            raise ValueError(f"Expected n_classes >= 2. Received: n_classes={n_classes}.")
        p = self.params
        seeds = iter(range(int(seed) * 1000, int(seed) * 1000 + 100))

        def init():
            return keras.initializers.GlorotUniform(seed=next(seeds))

        inp = keras.Input(shape=input_shape, name="spikes")
        h = inp
        rank = len(input_shape)  # 2: (T, F); 3: (T, L, C); 4: (T, H, W, C)
        if rank in (3, 4):
            conv = LIFConv2D if rank == 4 else LIFConv1D
            for k, (filters, ks) in enumerate(zip(p["filters"], p["kernel_sizes"])):
                h = conv(
                    filters,
                    ks,
                    padding=p["padding"],
                    kernel_initializer=init(),
                    name=f"conv{k + 1}",
                    **self._neuron_kwargs(spiking=True),
                )(h)
                if p["pool"] > 1 and min(h.shape[2:-1]) >= p["pool"]:
                    h = SequenceMaxPool(p["pool"], name=f"pool{k + 1}")(h)
            h = SequenceFlatten(name="flatten")(h)
        for k, units in enumerate(p["hidden"]):
            h = LIFDense(
                units, kernel_initializer=init(), name=f"hidden{k + 1}",
                **self._neuron_kwargs(spiking=True),
            )(h)
        readout = p["readout"]
        if readout in ("count", "rate"):
            out = LIFDense(
                n_classes,
                return_sequences=False,
                readout="sum" if readout == "count" else "mean",
                kernel_initializer=init(),
                name="output",
                **self._neuron_kwargs(spiking=True),
            )(h)
        else:
            out = LIFDense(
                n_classes,
                spiking=False,
                return_sequences=False,
                readout=readout.split("_")[1],
                kernel_initializer=init(),
                name="output",
                **self._neuron_kwargs(spiking=False),
            )(h)
        return keras.Model(inp, out, name="convsnn")

    def predict_logits(self, model: Any, x: Any, batch_size: int, quantized: bool = True,
                       **options: Any) -> np.ndarray:
        """Logits ``(N, n_classes)``; ``quantized=False`` evaluates the float latent weights."""
        if options:
            raise TypeError(
                "Backend 'convsnn' takes only the prediction option 'quantized'. "
                f"Received: {sorted(options)}."
            )
        if not quantized and self.params["bits"] is not None:
            model = with_bits(model, None)
        x = np.asarray(x, np.float32)
        return np.asarray(model.predict(x, batch_size=batch_size, verbose=0))

    def export_quantized(self, model: keras.Model) -> dict[str, dict[str, Any]]:
        """Integer kernels and scales of every LIF layer (see
        :func:`spykeflow.layers.quantize.export_quantized`)."""
        return export_quantized(model, bits=self.params["bits"])
