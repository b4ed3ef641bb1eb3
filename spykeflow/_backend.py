"""What differs between the Keras backends, in one place.

SpykeFlow's Keras code is written with ``keras.ops`` / ``keras.random`` and runs unchanged on
TensorFlow, JAX and PyTorch (``KERAS_BACKEND``). The few places where the backends differ --
the compiled time loop, rematerialisation, and features one backend lacks -- go through here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras

__all__ = ["name", "scan", "scope", "unsupported", "jit", "gpu_visible"]

#: Backends SpykeFlow supports and tests.
SUPPORTED = ("tensorflow", "jax", "torch")


def name() -> str:
    """The active Keras backend (``"tensorflow"``, ``"jax"`` or ``"torch"``)."""
    return keras.backend.backend()


def scope(distribution: Any) -> Any:
    """``distribution.scope()`` of a ``keras.distribution`` distribution, or a no-op context."""
    import contextlib

    return distribution.scope() if distribution is not None else contextlib.nullcontext()


def unsupported(feature: str, alternative: str) -> NotImplementedError:
    """The error for a feature the active backend cannot provide; ``raise unsupported(...)``."""
    return NotImplementedError(
        f"{feature} is not available on the Keras backend {name()!r}. {alternative}")


def jit(fn: Callable) -> Callable:
    """``fn`` compiled for the active backend, for inference (no gradients): one XLA program
    per input shape on TensorFlow (``tf.function(jit_compile=True)``) and JAX
    (``jax.jit``); PyTorch runs it eagerly."""
    if name() == "tensorflow":
        import tensorflow as tf

        return tf.function(fn, jit_compile=True)
    if name() == "jax":
        import jax

        return jax.jit(fn)
    return fn


def gpu_visible() -> bool:
    """Whether the active backend sees a GPU."""
    if name() == "tensorflow":
        import tensorflow as tf

        return bool(tf.config.list_physical_devices("GPU"))
    if name() == "jax":
        import jax

        try:
            return bool(jax.devices("gpu"))
        except RuntimeError:      # no GPU platform
            return False
    if name() == "torch":
        import torch

        return bool(torch.cuda.is_available())
    return False


def scan(step: Callable, init: Any, xs: Any, remat: bool = False) -> tuple[Any, Any]:
    """``step(carry, x_t) -> (carry, y_t)`` over the leading axis of ``xs``; returns
    ``(final carry, stacked y)``. ``y_t`` must have the structure, shapes and dtypes of the
    carry (the contract of ``keras.ops.scan`` on TensorFlow).

    JAX runs ``keras.ops.scan`` (``jax.lax.scan``), PyTorch a Python loop over the time slices.
    TensorFlow unrolls the loop into the graph when the number of steps is static and at most
    ``TF_UNROLL_MAX`` (plain graph ops, without a loop's per-iteration machinery:
    ``sts_convsnn`` trained 1.14x faster), and otherwise runs one
    ``tf.while_loop`` with the carry as loop variables and ``maximum_iterations`` set; both
    also compile with XLA (``jit_compile=True``), which ``keras.ops.scan``'s loop cannot.

    ``remat=True`` recomputes each step's activations in the backward pass instead of keeping
    them (``keras.remat``: less memory for back-propagation through long sequences, about one
    extra forward pass of compute). On TensorFlow (``tf.recompute_grad``) only tensors passed
    in ``init``/``xs`` receive gradients: pass trainable parameters through the carry rather
    than capturing them in ``step``.
    """
    if remat:
        step = keras.remat(step)
    if name() == "tensorflow":
        from keras import tree

        steps = tree.flatten(xs)[0].shape[0]
        if steps is not None and steps <= TF_UNROLL_MAX:
            return _unrolled_scan(step, init, xs)
        return _tf_scan(step, init, xs)
    if name() == "torch":
        return _unrolled_scan(step, init, xs)
    return keras.ops.scan(step, init, xs)


#: Longest static sequence that :func:`scan` unrolls on TensorFlow (longer ones, or an unknown
#: length, run in a ``tf.while_loop``: an unrolled graph grows with the length).
TF_UNROLL_MAX = 32


def _unrolled_scan(step: Callable, init: Any, xs: Any) -> tuple[Any, Any]:
    """A Python loop over the time slices (``keras.ops.unstack``: ``torch.unbind`` /
    ``tf.unstack``). Keras's torch scan indexes ``xs[i]`` per step, whose backward pass
    builds a zero gradient of all of ``xs`` per step (O(T^2)); unstack's backward stacks the
    step gradients once."""
    from keras import tree

    xs_flat = [keras.ops.unstack(keras.ops.convert_to_tensor(x), axis=0)
               for x in tree.flatten(xs)]
    nested = tree.is_nested(xs)
    carry, y, ys = init, None, []
    for slices in zip(*xs_flat):
        x_t = tree.pack_sequence_as(xs, list(slices)) if nested else slices[0]
        carry, y = step(carry, x_t)
        ys.append(tree.flatten(y))
    stacked = [keras.ops.stack(column) for column in zip(*ys)]
    return carry, tree.pack_sequence_as(y, stacked) if tree.is_nested(y) else stacked[0]


def _tf_scan(step: Callable, init: Any, xs: Any) -> tuple[Any, Any]:
    import tensorflow as tf
    from keras import tree

    xs_flat = [tf.convert_to_tensor(x) for x in tree.flatten(xs)]
    carry_flat = [tf.convert_to_tensor(c) for c in tree.flatten(init)]
    n_static = xs_flat[0].shape[0]
    n = n_static if n_static is not None else tf.shape(xs_flat[0])[0]
    xs_arrays = [tf.TensorArray(x.dtype, size=n, element_shape=x.shape[1:]).unstack(x)
                 for x in xs_flat]

    def pack(structure, flat):
        return tree.pack_sequence_as(structure, flat) if tree.is_nested(structure) else flat[0]

    def body(i, carry, ys):
        x_t = pack(xs, [a.read(i) for a in xs_arrays])
        new_carry, y = step(pack(init, carry), x_t)
        ys = [a.write(i, v) for a, v in zip(ys, tree.flatten(y))]
        return i + 1, [tf.convert_to_tensor(c) for c in tree.flatten(new_carry)], ys

    ys_arrays = [tf.TensorArray(c.dtype, size=n, element_shape=c.shape) for c in carry_flat]
    _, carry_flat, ys_arrays = tf.while_loop(
        lambda i, *_: i < n, body, (tf.constant(0), carry_flat, ys_arrays),
        maximum_iterations=n)
    ys_flat = [a.stack() for a in ys_arrays]
    if n_static is not None:
        for y in ys_flat:
            y.set_shape(tf.TensorShape([n_static]).concatenate(y.shape[1:]))
    return pack(init, carry_flat), pack(init, ys_flat)
