"""What differs between the Keras backends, in one place.

SpykeFlow's Keras code is written with ``keras.ops`` / ``keras.random`` and runs unchanged on
TensorFlow, JAX and PyTorch (``KERAS_BACKEND``). The few places where the backends differ --
the compiled time loop, rematerialisation, and features one backend lacks -- go through here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras

__all__ = ["name", "scan", "unsupported"]

#: Backends SpykeFlow supports and tests.
SUPPORTED = ("tensorflow", "jax", "torch")


def name() -> str:
    """The active Keras backend (``"tensorflow"``, ``"jax"`` or ``"torch"``)."""
    return keras.backend.backend()


def unsupported(feature: str, alternative: str) -> NotImplementedError:
    """The error for a feature the active backend cannot provide; ``raise unsupported(...)``."""
    return NotImplementedError(
        f"{feature} is not available on the Keras backend {name()!r}. {alternative}")


def scan(step: Callable, init: Any, xs: Any, remat: bool = False) -> tuple[Any, Any]:
    """``step(carry, x_t) -> (carry, y_t)`` over the leading axis of ``xs``:
    ``keras.ops.scan`` (one ``tf.while_loop`` / ``jax.lax.scan`` / a Python loop on PyTorch).

    ``remat=True`` recomputes each step's activations in the backward pass instead of keeping
    them (``keras.remat``: less memory for back-propagation through long sequences, about one
    extra forward pass of compute).
    """
    if remat:
        step = keras.remat(step)
    return keras.ops.scan(step, init, xs)
