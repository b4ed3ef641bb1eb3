"""Backend-neutral helpers for the conformance cases (run under any ``KERAS_BACKEND``).

A conformance case is a function ``case() -> dict[str, numpy.ndarray]`` registered with
:func:`case`. It builds a layer or model with fixed weights (from :func:`weights_like`) and a
fixed input (:func:`rng`), and returns what must agree across backends: the forward output
and, through :func:`forward_and_grads`, the gradients of a fixed loss with respect to the
input and every trainable weight. ``run_cases.py`` runs every case under one backend and
writes the arrays to an ``.npz``; ``test_conformance.py`` runs it under TensorFlow, JAX and
PyTorch in subprocesses and compares.

Keys starting with ``grad`` are compared with ``rtol=1e-4`` (surrogate gradients), all others
with ``atol=1e-5`` (forward outputs).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import numpy as np

CASES: dict[str, Callable[[], dict[str, np.ndarray]]] = {}
#: Cases whose results depend on the backend's random stream (training from a seeded
#: initialisation): only repeated exactly within a backend, not compared across backends.
SAME_BACKEND_ONLY: set[str] = set()
#: name -> builder ``() -> (model, x)`` of a model that is saved as ``.keras`` on each backend
#: and loaded and run on the others.
SAVED_MODELS: dict[str, Callable[[], tuple[Any, np.ndarray]]] = {}


def case(fn=None, *, cross_backend: bool = True):
    """Register a conformance case under its function name (``@case`` or
    ``@case(cross_backend=False)`` for results that only repeat within one backend)."""
    def register(f):
        if f.__name__ in CASES:
            raise ValueError(f"duplicate conformance case {f.__name__!r}")
        CASES[f.__name__] = f
        if not cross_backend:
            SAME_BACKEND_ONLY.add(f.__name__)
        return f
    return register(fn) if fn is not None else register


def saved_model(fn: Callable[[], tuple[Any, np.ndarray]]):
    """Register a builder ``() -> (model, x)`` whose ``.keras`` file must load and predict
    identically on every backend."""
    SAVED_MODELS[fn.__name__] = fn
    return fn


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def set_fixed_weights(layer: Any, seed: int = 0, scale: float = 0.5) -> None:
    """Give every weight of a built ``layer``/model deterministic values (same on all
    backends): normal * ``scale`` for float weights of rank >= 1, kept as built otherwise."""
    r = rng(seed)
    new = []
    for w in layer.get_weights():
        if w.ndim >= 1 and np.issubdtype(w.dtype, np.floating):
            new.append((r.standard_normal(w.shape) * scale).astype(w.dtype))
        else:
            new.append(w)
    layer.set_weights(new)


def to_numpy(x: Any) -> np.ndarray:
    return np.asarray(keras.ops.convert_to_numpy(x))


def forward_and_grads(model: Any, x: np.ndarray, training: bool = True,
                      loss: Callable[[Any], Any] | None = None,
                      weights_of_output: int | None = None) -> dict[str, np.ndarray]:
    """Forward output of ``model(x, training=training)`` and the gradients of a fixed scalar
    loss (default: ``sum(out * c)`` with a fixed random ``c``) with respect to ``x`` and each
    trainable variable, computed with the backend's own autodiff.

    Returns ``{"forward": ..., "grad_x": ..., "grad_w0": ..., "grad_w1": ...}`` in the order of
    ``model.trainable_variables``.
    """
    backend = keras.backend.backend()
    x = np.asarray(x, dtype="float32")
    out_probe = to_numpy(model(x, training=training))
    c = rng(123).standard_normal(out_probe.shape).astype("float32")

    def scalar(out):
        if loss is not None:
            return loss(out)
        return keras.ops.sum(out * keras.ops.convert_to_tensor(c))

    variables = list(model.trainable_variables)
    if backend == "tensorflow":
        import tensorflow as tf

        xt = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(xt)
            out = model(xt, training=training)
            value = scalar(out)
        grads = tape.gradient(value, [xt] + variables)
    elif backend == "jax":
        import jax

        tv = [v.value for v in model.trainable_variables]
        ntv = [v.value for v in model.non_trainable_variables]

        def f(tv, xj):
            out, _ = model.stateless_call(tv, ntv, xj, training=training)
            return scalar(out), out

        grad_fn = jax.jit(jax.value_and_grad(f, argnums=(0, 1), has_aux=True))
        (value, out), (g_tv, g_x) = grad_fn(tv, x)
        grads = [g_x] + list(g_tv)
    elif backend == "torch":
        import torch

        xt = torch.tensor(x, requires_grad=True)
        for v in variables:
            v.value.grad = None
        out = model(xt, training=training)
        value = scalar(out)
        value.backward()
        grads = [xt.grad] + [v.value.grad for v in variables]
    else:  # pragma: no cover - the conformance suite runs the three backends above
        raise NotImplementedError(backend)
    result = {"forward": to_numpy(out)}
    for i, g in enumerate(grads):
        key = "grad_x" if i == 0 else f"grad_w{i - 1}"
        result[key] = np.zeros(x.shape if i == 0 else variables[i - 1].shape, "float32") \
            if g is None else to_numpy(g)
    return result
