"""The compiled steps of the Keras training loop, one implementation per Keras backend.

:func:`make_steps` returns a :class:`Steps` for a compiled model (its ``optimizer`` and
``loss``): ``train(x, y)`` runs one optimiser step on a batch and returns its mean loss and
number of correct predictions, ``evaluate(x, y)`` the same without training;
:func:`predictor` gives the logits of a model with its current weights. The loop in
:mod:`spykeflow.training` is the same on every backend; only these
steps differ:

* **TensorFlow** -- ``tf.function`` around a ``GradientTape`` step (one trace, any batch size).
* **JAX** -- ``jax.jit`` around a stateless step (``model.stateless_call``,
  ``optimizer.stateless_apply``); the weights live in the step's state and are copied into the
  model's variables by :meth:`Steps.pull` (at the end of each epoch, before callbacks look at
  them) and read back by :meth:`Steps.push` (after callbacks may have changed them, e.g.
  restore-best or a new learning rate). With a ``keras.distribution`` distribution the batch is
  sharded over its devices -- on one host or, after ``keras.distribution.initialize``, over
  several processes -- and XLA all-reduces the gradients.
* **PyTorch** -- an eager step (``loss.backward()``, ``optimizer.apply``).

``run_eagerly=True`` skips tracing/compiling on TensorFlow and JAX (debugging).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import numpy as np
from keras import ops

from . import _backend

__all__ = ["Steps", "make_steps", "predictor"]


def _hits(y, logits):
    hits = ops.equal(ops.cast(ops.argmax(logits, axis=-1), "int32"), ops.cast(y, "int32"))
    return ops.cast(hits, "float32")


def _correct(y, logits, weights=None):
    hits = _hits(y, logits)
    return ops.sum(hits if weights is None else hits * weights)


def _mean_loss(loss_fn, y, logits, weights=None):
    if weights is None:
        return loss_fn(y, logits)
    # padded batch (a distributed remainder): the mean over the real samples only
    size = ops.cast(ops.shape(weights)[0], "float32")
    return loss_fn(y, logits, sample_weight=weights) * size / ops.sum(weights)


def _add_n(terms):
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return total


class Steps:
    """Train and evaluate steps of one compiled model (see the module docstring)."""

    def __init__(self, model: keras.Model, run_eagerly: bool = False) -> None:
        self.model = model
        self.loss_fn = model.loss
        self.optimizer = model.optimizer
        self.run_eagerly = bool(run_eagerly)

    def train(self, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
        raise NotImplementedError  # pragma: no cover - interface

    def evaluate(self, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
        raise NotImplementedError  # pragma: no cover - interface

    def pull(self) -> None:
        """Copy the step's state into the model's variables (no-op where they are the same)."""

    def push(self) -> None:
        """Read the model's variables back into the step's state (no-op where the same)."""


class _TensorFlowSteps(Steps):
    def __init__(self, model, sample_shape, run_eagerly=False):
        super().__init__(model, run_eagerly)
        import tensorflow as tf

        model_, loss_fn, optimizer = self.model, self.loss_fn, self.optimizer

        def train_step(x, y):
            with tf.GradientTape() as tape:
                logits = model_(x, training=True)
                loss = loss_fn(y, logits)
                if model_.losses:
                    loss = loss + tf.add_n(model_.losses)
            grads = tape.gradient(loss, model_.trainable_variables)
            optimizer.apply(grads, model_.trainable_variables)
            return loss, _correct(y, logits)

        def eval_step(x, y):
            logits = model_(x, training=False)
            return loss_fn(y, logits), _correct(y, logits)

        if run_eagerly:
            self._train, self._eval = train_step, eval_step
        else:  # one trace each, any batch size
            spec = (tf.TensorSpec((None,) + tuple(sample_shape), tf.float32),
                    tf.TensorSpec((None,), tf.int32))
            self._train = tf.function(train_step, input_signature=spec)
            self._eval = tf.function(eval_step, input_signature=spec)

    def train(self, x, y):
        loss, correct = self._train(x, y)
        return float(loss), float(correct)

    def evaluate(self, x, y):
        loss, correct = self._eval(x, y)
        return float(loss), float(correct)


class _TorchSteps(Steps):
    def train(self, x, y):
        import torch

        model = self.model
        x = ops.convert_to_tensor(x)
        y = ops.convert_to_tensor(y, "int32")
        variables = model.trainable_variables
        for v in variables:
            v.value.grad = None
        logits = model(x, training=True)
        loss = self.loss_fn(y, logits)
        if model.losses:
            loss = loss + _add_n(model.losses)
        loss.backward()
        grads = [v.value.grad for v in variables]
        with torch.no_grad():
            self.optimizer.apply(grads, variables)
            correct = _correct(y, logits)
        return float(loss.detach()), float(correct)

    def evaluate(self, x, y):
        import torch

        with torch.no_grad():
            x = ops.convert_to_tensor(x)
            y = ops.convert_to_tensor(y, "int32")
            logits = self.model(x, training=False)
            return float(self.loss_fn(y, logits)), float(_correct(y, logits))


class _JaxSteps(Steps):
    def __init__(self, model, run_eagerly=False, distribution=None):
        super().__init__(model, run_eagerly)
        import jax

        self.distribution = distribution
        with _backend.scope(self.distribution):
            if not self.optimizer.built:
                self.optimizer.build(model.trainable_variables)
        model_, loss_fn, optimizer = self.model, self.loss_fn, self.optimizer

        def train_step(state, x, y, w):
            tv, ntv, ov = state

            def objective(tv):
                logits, new_ntv, losses = model_.stateless_call(
                    tv, ntv, x, training=True, return_losses=True)
                loss = _mean_loss(loss_fn, y, logits, w)
                if losses:
                    loss = loss + _add_n(losses)
                return loss, (logits, new_ntv)

            (loss, (logits, ntv)), grads = jax.value_and_grad(objective, has_aux=True)(tv)
            tv, ov = optimizer.stateless_apply(ov, grads, tv)
            return (tv, ntv, ov), loss, _correct(y, logits, w)

        def eval_step(state, x, y, w):
            tv, ntv, _ = state
            logits, _ = model_.stateless_call(tv, ntv, x, training=False)
            return _mean_loss(loss_fn, y, logits, w), _correct(y, logits, w)

        if run_eagerly:
            self._train, self._eval = train_step, eval_step
        else:
            self._train = jax.jit(train_step)
            self._eval = jax.jit(eval_step)
        self.push()

    def push(self):
        m = self.model
        self.state = ([v.value for v in m.trainable_variables],
                      [v.value for v in m.non_trainable_variables],
                      [v.value for v in self.optimizer.variables])

    def pull(self):
        # Copies: Keras's own jitted functions (model.predict, fit) donate the variables'
        # buffers, which must not delete the arrays this step's state still holds.
        import jax.numpy as jnp

        tv, ntv, ov = self.state
        for variables, values in ((self.model.trainable_variables, tv),
                                  (self.model.non_trainable_variables, ntv),
                                  (self.optimizer.variables, ov)):
            for v, value in zip(variables, values):
                v.assign(jnp.copy(value))

    def _place(self, *arrays):
        if self.distribution is None:
            return (*arrays, None)
        return shard_batch(self.distribution, *arrays)

    @staticmethod
    def _scalar(value) -> float:
        shards = getattr(value, "addressable_shards", None)
        if shards:  # replicated over processes: read the local copy
            return float(np.asarray(shards[0].data))
        return float(value)

    def train(self, x, y):
        self.state, loss, correct = self._train(self.state, *self._place(x, y))
        return self._scalar(loss), self._scalar(correct)

    def evaluate(self, x, y):
        loss, correct = self._eval(self.state, *self._place(x, y))
        return self._scalar(loss), self._scalar(correct)


def shard_batch(distribution: Any, *arrays: np.ndarray) -> tuple:
    """Arrays of one global batch as global JAX arrays sharded over ``distribution``'s batch
    axis, plus per-sample weights (last). The batch is padded to a multiple of the device
    count with zero-weight copies of its first sample; each process keeps its share (the
    same global batch is given to every process) and the shares become one global array
    (``jax.make_array_from_process_local_data``), so the step's gradient is the gradient of
    the mean loss over the real samples of the global batch, all-reduced by XLA."""
    import jax

    devices = int(np.prod(distribution.device_mesh.shape))
    n = len(arrays[0])
    pad = (-n) % devices
    weights = np.ones(n + pad, np.float32)
    if pad:
        weights[n:] = 0.0
        arrays = tuple(np.concatenate([a, np.repeat(a[:1], pad, axis=0)]) for a in arrays)
    share = (n + pad) // jax.process_count()
    rank = jax.process_index()
    placed = []
    for a in (*arrays, weights):
        layout = distribution.get_data_layout(a.shape).backend_layout
        local = a[rank * share:(rank + 1) * share]
        placed.append(jax.make_array_from_process_local_data(layout, local, a.shape))
    return tuple(placed)


def gather_batch(values: Any, n: int) -> np.ndarray:
    """The first ``n`` rows of a batch-sharded global array, gathered on every process."""
    from jax.experimental import multihost_utils

    return np.asarray(multihost_utils.process_allgather(values, tiled=True))[:n]


def predictor(model: keras.Model) -> Callable[[np.ndarray], np.ndarray]:
    """``predict(x) -> logits`` (numpy) of ``model(x, training=False)`` with the model's current
    weights: eager on TensorFlow (no per-model trace), one ``jax.jit`` per model on JAX (cached
    on the model; the weights are passed on every call), without autograd on PyTorch."""
    backend = _backend.name()
    if backend == "jax":
        fn = getattr(model, "_spykeflow_predict", None)
        if fn is None:
            import jax

            fn = jax.jit(lambda tv, ntv, x: model.stateless_call(tv, ntv, x, training=False)[0])
            model._spykeflow_predict = fn

        def predict(x):
            tv = [v.value for v in model.trainable_variables]
            ntv = [v.value for v in model.non_trainable_variables]
            distribution = keras.distribution.distribution()
            if distribution is None:
                return np.asarray(fn(tv, ntv, x))
            xs, _weights = shard_batch(distribution, x)
            return gather_batch(fn(tv, ntv, xs), len(x))
        return predict
    if backend == "torch":
        import torch

        def predict(x):
            with torch.no_grad():
                return ops.convert_to_numpy(model(ops.convert_to_tensor(x), training=False))
        return predict
    return lambda x: np.asarray(ops.convert_to_numpy(model(ops.convert_to_tensor(x),
                                                           training=False)))


def make_steps(model: keras.Model, sample_shape: tuple, run_eagerly: bool = False,
               distribution: Any = None) -> Steps:
    """The :class:`Steps` of ``model`` (compiled; inputs ``(None,) + sample_shape``) for the
    active Keras backend; ``distribution`` (a ``keras.distribution`` distribution, JAX only)
    trains data parallel."""
    backend = _backend.name()
    if distribution is not None and backend != "jax":
        raise _backend.unsupported(
            "Training with a keras.distribution distribution",
            "Data-parallel training runs on JAX: set KERAS_BACKEND=jax (see the README).")
    if backend == "tensorflow":
        return _TensorFlowSteps(model, sample_shape, run_eagerly)
    if backend == "jax":
        return _JaxSteps(model, run_eagerly, distribution)
    if backend == "torch":
        return _TorchSteps(model, run_eagerly)
    raise _backend.unsupported("Training", f"Use one of {_backend.SUPPORTED}.")
