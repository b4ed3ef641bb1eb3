"""Quantised models: integer export and float/quantised copies of models with LIF layers.

Any layer with the attributes ``bits``, ``quant_axis``, ``quant_mode`` and ``kernel`` (the LIF
layers of :mod:`spykeflow.layers.lif`) takes part. Quantisation-aware training sets ``bits`` on the
layers; the float "latent" weights are what the optimiser updates and what ``.keras`` files store.

* :func:`export_quantized` -- integer kernels ``int8``/``int16`` and their scales, per layer.
* :func:`with_bits` -- a copy of a model with every LIF layer set to ``bits`` (None = float),
  sharing no state with the original: evaluate a QAT model in float, or quantise a float-trained
  model after training (post-training quantisation).

>>> import keras
>>> from spykeflow.layers.lif import LIFDense
>>> inp = keras.Input((3, 4))
>>> model = keras.Model(inp, LIFDense(2, bits=4, name="fc")(inp))
>>> exported = export_quantized(model)
>>> sorted(exported["fc"])
['beta', 'bias', 'bits', 'kernel_int', 'mode', 'scale', 'threshold']
>>> int(abs(exported["fc"]["kernel_int"]).max()) <= 7
True
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import ops

from ..functional import quantize as Q

__all__ = ["quantizable_layers", "export_quantized", "with_bits"]


def _flatten_layers(model):
    for layer in model.layers:
        if hasattr(layer, "layers") and not hasattr(layer, "quantized_kernel"):
            yield from _flatten_layers(layer)
        else:
            yield layer


def _numpy(x):
    """A tensor or variable of any backend (and device) as a float32 numpy array."""
    return np.asarray(ops.convert_to_numpy(x), np.float32)


def quantizable_layers(model: keras.Model) -> list:
    """The layers of ``model`` (recursing into nested models) that support ``bits``."""
    return [lyr for lyr in _flatten_layers(model) if hasattr(lyr, "quantized_kernel")]


def export_quantized(model: keras.Model,
                     bits: int | None = None) -> dict[str, dict[str, Any]]:
    """Integer weights and scales of every quantisable layer.

    Parameters
    ----------
    model : keras.Model
    bits : int, optional
        Bit width for layers whose ``bits`` is None (e.g. exporting a float-trained model);
        by default such layers are skipped. Layers with ``bits`` set use their own width.

    Returns
    -------
    dict
        ``{layer_name: {"kernel_int": int array (kernel shape), "scale": float32 array
        (shape () per layer or (channels,) per channel), "bits": int, "mode": str,
        "bias": float32 or None, "threshold": float32 or None, "beta": float32}}``, with
        ``kernel_int * scale`` equal to the kernel used in the quantised forward pass.
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"Expected a keras.Model. Received: {type(model).__name__}.")
    if bits is not None:
        Q.check_bits(bits)
    out = {}
    for layer in quantizable_layers(model):
        b = layer.bits if layer.bits is not None else bits
        if b is None:
            continue
        axis = -1 if layer.quant_axis == "channel" else None
        q, s = Q.quantize_int(layer.kernel, b, axis=axis, mode=layer.quant_mode)
        dtype = np.int8 if b <= 8 else np.int16
        scale = _numpy(s)
        out[layer.name] = {
            "kernel_int": ops.convert_to_numpy(q).astype(dtype),
            "scale": scale.reshape(-1) if axis is not None else scale.reshape(()),
            "bits": int(b),
            "mode": layer.quant_mode,
            "bias": None if layer.bias is None else _numpy(layer.bias),
            "threshold": None if layer.threshold_w is None else _numpy(layer.threshold_w),
            "beta": np.clip(_numpy(layer.beta_w), 0.0, 1.0),
        }
    return out


def with_bits(model: keras.Model, bits: int | None,
              quant_axis: str | None = None) -> keras.Model:
    """A copy of ``model`` whose LIF layers use ``bits`` (None: float), with the same weights.

    ``quant_axis`` (``"layer"``/``"channel"``) optionally overrides the layers' scale axis.
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"Expected a keras.Model. Received: {type(model).__name__}.")
    if bits is not None:
        Q.check_bits(bits)

    def clone_fn(layer):
        config = layer.get_config()
        if hasattr(layer, "quantized_kernel"):
            config["bits"] = bits
            if quant_axis is not None:
                config["quant_axis"] = quant_axis
        return layer.__class__.from_config(config)

    clone = keras.models.clone_model(model, clone_function=clone_fn)
    clone.set_weights(model.get_weights())
    return clone
