"""Registry of surrogate gradients for the spike (Heaviside) non-linearity.

Every surrogate has the same forward pass, the Heaviside step

    S(x) = 1 if x >= 0 else 0,          x = membrane potential - threshold,

and replaces the derivative dS/dx (zero almost everywhere) by a function g(x) in the backward
pass. The registry is shared by the binary-activation readout and every BPTT backend, so a
surrogate is chosen by name everywhere. It is written in ``keras.ops`` with
``keras.ops.custom_gradient``, so the same surrogate runs on the TensorFlow, JAX and PyTorch
backends::

    >>> from spykeflow.functional import surrogate
    >>> spike = surrogate.get("gaussian", sigma=0.5)
    >>> spike.get_config()
    {'name': 'gaussian', 'sigma': 0.5}
    >>> float(spike(keras.ops.convert_to_tensor(0.25)))
    1.0

Surrogates and their backward formulas g(x):

====================  =============================================  ==========================
name                  g(x)                                           used by
====================  =============================================  ==========================
``gaussian``          exp(-x^2 / (2 sigma^2)) / (sigma sqrt(2 pi))   Safa et al. 2021
                                                                     (ConvSNN); STS uses
                                                                     N(threshold, 1/6)
``sigmoid``           scale * s(scale x) * (1 - s(scale x)),         Zimmer et al. (s2net,
                      s = logistic                                   scale 10)
``fast_sigmoid``      ``1 / (1 + scale |x|)^2``                      Zenke & Ganguli
                                                                     (SuperSpike)
``rectangular``       ``1/width if |x| < width/2 else 0``            Wu et al. 2018
``box``               1 if lo <= x <= hi (``inclusive``;             Vaila et al. surrogate 1
                      else lo <= x < hi)
``heaviside``         1 if x >= 0 else 0  (g = S)                    Vaila et al. surrogate 2
``triangular``        ``max(0, 1 - |x|/width) / width``              Esser et al. 2016
``arctan``            alpha / (2 (1 + (pi/2 alpha x)^2))             Fang et al. 2021
``straight_through``  1                                              Bengio et al. 2013
====================  =============================================  ==========================

``sg1`` (box on [0, 0.125], inclusive, the SpykeFlow readout's surrogate gradient 1) and ``sg2``
(``heaviside``) are aliases with the published settings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import keras
from keras import ops

from .._validation import check_bool, check_float

__all__ = ["Surrogate", "get", "available", "heaviside"]


def _gaussian(x, sigma=0.5):
    return ops.exp(-ops.square(x) / (2.0 * sigma**2)) / (sigma * math.sqrt(2.0 * math.pi))


def _sigmoid(x, scale=10.0):
    s = ops.sigmoid(scale * x)
    return scale * s * (1.0 - s)


def _fast_sigmoid(x, scale=10.0):
    return 1.0 / ops.square(1.0 + scale * ops.abs(x))


def _rectangular(x, width=1.0):
    return ops.cast(ops.abs(x) < width / 2.0, x.dtype) / width


def _box(x, lo=0.0, hi=0.125, inclusive=True):
    upper = x <= hi if inclusive else x < hi
    return ops.cast(ops.logical_and(x >= lo, upper), x.dtype)


def _heaviside_grad(x):
    return ops.cast(x >= 0, x.dtype)


def _triangular(x, width=1.0):
    return ops.maximum(0.0, 1.0 - ops.abs(x) / width) / width


def _arctan(x, alpha=2.0):
    return alpha / (2.0 * (1.0 + ops.square(math.pi / 2.0 * alpha * x)))


def _straight_through(x):
    return ops.ones_like(x)


# name -> (derivative function, default parameters)
_REGISTRY = {
    "gaussian": (_gaussian, {"sigma": 0.5}),
    "sigmoid": (_sigmoid, {"scale": 10.0}),
    "fast_sigmoid": (_fast_sigmoid, {"scale": 10.0}),
    "rectangular": (_rectangular, {"width": 1.0}),
    "box": (_box, {"lo": 0.0, "hi": 0.125, "inclusive": True}),
    "heaviside": (_heaviside_grad, {}),
    "triangular": (_triangular, {"width": 1.0}),
    "arctan": (_arctan, {"alpha": 2.0}),
    "straight_through": (_straight_through, {}),
}
_ALIASES = {
    "sg1": ("box", {"lo": 0.0, "hi": 0.125, "inclusive": True}),
    "sg2": ("heaviside", {}),
    "superspike": ("fast_sigmoid", {}),
    "ste": ("straight_through", {}),
}
# Parameters that must be strictly positive.
_POSITIVE = {"sigma", "scale", "width", "alpha"}


def available() -> list[str]:
    """Names accepted by :func:`get` (registry entries and aliases), sorted."""
    return sorted(set(_REGISTRY) | set(_ALIASES))


def _floating(x: Any) -> Any:
    """``x`` as a backend tensor, cast to float32 unless it is already floating."""
    x = ops.convert_to_tensor(x)
    if "float" not in keras.backend.standardize_dtype(x.dtype):
        x = ops.cast(x, "float32")
    return x


def heaviside(x: Any) -> Any:
    """The spike non-linearity without a gradient path: ``1.0 where x >= 0`` in ``x``'s dtype."""
    x = ops.convert_to_tensor(x)
    return ops.cast(x >= 0, x.dtype)


@dataclass(frozen=True)
class Surrogate:
    """A Heaviside spike function with a named surrogate derivative.

    Call it on ``x = v - threshold``; it returns ``1.0`` where ``x >= 0`` and ``0.0`` elsewhere
    (same dtype as ``x``) and back-propagates ``upstream * g(x)``. Build it with :func:`get`.
    """

    name: str
    params: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        if self.name not in _REGISTRY:
            raise ValueError(
                f"Unknown surrogate {self.name!r}. Expected one of {available()}."
            )
        fn, defaults = _REGISTRY[self.name]
        unknown = set(self.params) - set(defaults)
        if unknown:
            raise ValueError(
                f"Surrogate {self.name!r} takes parameters {sorted(defaults)}. "
                f"Received unknown: {sorted(unknown)}."
            )
        merged = {**defaults, **self.params}
        for key in _POSITIVE & set(merged):
            merged[key] = check_float(merged[key], key, low=0, low_open=True)
        if self.name == "box":
            merged["lo"] = check_float(merged["lo"], "lo")
            merged["hi"] = check_float(merged["hi"], "hi")
            merged["inclusive"] = check_bool(merged["inclusive"], "inclusive")
            if not merged["lo"] < merged["hi"]:
                raise ValueError(f"Expected lo < hi for the 'box' surrogate. Received: {merged}.")
        object.__setattr__(self, "params", merged)

    def derivative(self, x: Any) -> Any:
        """The surrogate derivative g(x) (what the backward pass multiplies by)."""
        x = _floating(x)
        fn = _REGISTRY[self.name][0]
        return ops.cast(fn(x, **self.params), x.dtype)

    def __call__(self, x: Any) -> Any:
        x = _floating(x)

        @ops.custom_gradient
        def _spike(v):
            # TensorFlow and JAX pass the upstream gradient positionally, PyTorch by keyword.
            def grad(*args, upstream=None):
                if upstream is None:
                    (upstream,) = args
                return upstream * self.derivative(v)

            return ops.cast(v >= 0, v.dtype), grad

        return _spike(x)

    def get_config(self) -> dict[str, Any]:
        """JSON-serialisable config; ``get(config)`` rebuilds an equal surrogate."""
        return {"name": self.name, **self.params}


def get(identifier: str | dict | Surrogate, **params: Any) -> Surrogate:
    """Resolve a surrogate by name, config dict or instance.

    Parameters
    ----------
    identifier : str, dict or Surrogate
        A registry name or alias (see :func:`available`), a dict from
        :meth:`Surrogate.get_config`, or a :class:`Surrogate` (returned unchanged).
    **params
        Parameters overriding the defaults (e.g. ``sigma=1/6`` for ``gaussian``).

    Raises
    ------
    ValueError
        For an unknown name (the message lists the valid ones) or invalid parameters.
    """
    if isinstance(identifier, Surrogate):
        if params:
            return Surrogate(identifier.name, {**identifier.params, **params})
        return identifier
    if isinstance(identifier, dict):
        config = dict(identifier)
        name = config.pop("name", None)
        return get(name, **{**config, **params})
    if not isinstance(identifier, str):
        raise TypeError(
            "Expected a surrogate name, config dict or Surrogate. "
            f"Received: {type(identifier).__name__}."
        )
    key = identifier.lower()
    if key in _ALIASES:
        name, alias_params = _ALIASES[key]
        return Surrogate(name, {**alias_params, **params})
    if key not in _REGISTRY:
        raise ValueError(f"Unknown surrogate {identifier!r}. Expected one of {available()}.")
    return Surrogate(key, dict(params))
