"""The Keras training loop shared by every :class:`~spykeflow.backends.base.KerasBackend`.

:func:`fit_keras` trains a compiled ``keras.Model`` (its ``optimizer`` and ``loss``) with a
lean custom loop -- one traced train step and one traced evaluation step, any batch size --
that drives standard Keras callbacks. On this project's 2-core machine ``model.fit`` cost
about 10x more per step for small readouts (its per-fit tracing and epoch machinery). On top
it provides:

* seeded per-epoch shuffling (``numpy.random.default_rng(seed)``; ``shuffle=False`` keeps the
  stored order like the original notebooks), optional dropping of the last partial batch;
* restore-best on a monitored metric (the original's "test@best-val",
  ``docs/original/readout.md#model-selection``), early stopping, learning-rate schedules
  (``"plateau"``, ``"step"``), TensorBoard logs;
* a tqdm progress bar, per-epoch wall time and learning rate in the history (each epoch is also
  logged at DEBUG level on the ``spykeflow.training`` logger).

:func:`split_validation` makes the validation split: stratified-random (default), random, or the
original's "first 9 % of the stored order" (``docs/original/readout.md#validation-split``).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import keras
import numpy as np

from ._steps import make_steps
from ._validation import check_float, check_in, check_int

logger = logging.getLogger("spykeflow.training")

__all__ = [
    "VALIDATION_MODES",
    "LR_SCHEDULES",
    "split_validation",
    "make_optimizer",
    "BatchSequence",
    "BestWeights",
    "TqdmProgress",
    "TensorBoardScalars",
    "evaluate_keras",
    "predict_logits",
    "fit_keras",
]

#: Values of ``validation_mode``.
VALIDATION_MODES = ("stratified", "random", "first")
#: Values of ``lr_schedule`` (besides ``None``).
LR_SCHEDULES = ("plateau", "step")

_PLATEAU_DEFAULTS = {"factor": 0.5, "patience": 3, "min_lr": 1e-6, "monitor": "auto"}
_STEP_DEFAULTS = {"step_size": 10, "gamma": 0.1}


def split_validation(y: Any, fraction: float, mode: str = "stratified",
                     seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(train_idx, val_idx)`` of a validation split of labels ``y``.

    Parameters
    ----------
    y : array ``(N,)``
        Encoded labels.
    fraction : float in [0, 1)
        Share of samples held out.
    mode : {"stratified", "random", "first"}
        ``"stratified"``: per class, ``round(fraction * n_class)`` samples drawn at random (at
        least one sample of each class stays in training); ``"random"``: ``int(fraction * N)``
        samples at random; ``"first"``: the first ``int(fraction * N)`` samples of the stored
        order (the original SpykeFlow notebooks, ``docs/original/readout.md#validation-split``).
    seed : int

    Both index arrays are sorted (the stored order is kept inside each part).

    >>> tr, va = split_validation(np.arange(100) % 2, 0.09, mode="first")
    >>> va.tolist()
    [0, 1, 2, 3, 4, 5, 6, 7, 8]
    """
    y = np.asarray(y)
    n = len(y)
    fraction = check_float(fraction, "validation_split", 0, 1, high_open=True)
    check_in(mode, "validation_mode", VALIDATION_MODES)
    if fraction == 0:
        return np.arange(n), np.arange(0)
    rng = np.random.default_rng(seed)
    if mode == "first":
        val = np.arange(int(fraction * n))
    elif mode == "random":
        val = np.sort(rng.permutation(n)[: int(fraction * n)])
    else:
        parts = []
        for c in np.unique(y):
            members = np.flatnonzero(y == c)
            k = min(int(math.floor(fraction * len(members) + 0.5)), len(members) - 1)
            if k > 0:
                parts.append(rng.permutation(members)[:k])
        val = np.sort(np.concatenate(parts)) if parts else np.arange(0)
    mask = np.ones(n, bool)
    mask[val] = False
    return np.flatnonzero(mask), val


def make_optimizer(name: str, learning_rate: float,
                   params: dict[str, Any] | None = None) -> keras.optimizers.Optimizer:
    """A fresh Keras optimizer from its name (``"sgd"``, ``"adam"``, ``"rmsprop"``, ...).

    >>> make_optimizer("sgd", 0.01).__class__.__name__
    'SGD'
    """
    if not isinstance(name, str):
        raise TypeError(
            f"Expected optimizer to be a name such as 'sgd' or 'adam'. Received: {name!r}. "
            "Pass extra settings with optimizer_params={...}."
        )
    config = {"learning_rate": float(learning_rate), **(params or {})}
    try:
        return keras.optimizers.get({"class_name": name, "config": config})
    except (ValueError, TypeError) as err:
        raise ValueError(
            f"Could not build optimizer {name!r} with {config}: {err}. "
            "Expected a Keras optimizer name such as 'sgd', 'adam', 'adamw', 'rmsprop'."
        ) from None


class BatchSequence:
    """Mini-batches of ``(x, y)`` in a seeded order, cast to ``dtype`` batch by batch.

    The order is a fresh ``rng.permutation`` each epoch when ``shuffle`` (seeded by ``seed``),
    the stored order otherwise. Inputs may stay compact (bool/uint8) in memory.
    """

    def __init__(self, x: Any, y: Any, batch_size: int, shuffle: bool = False, seed: int = 0,
                 drop_remainder: bool = False, dtype: Any = "float32") -> None:
        self.x, self.y = x, y
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_remainder = bool(drop_remainder)
        self.dtype = dtype
        self._rng = np.random.default_rng(seed)
        self._order = self._new_order()

    def _new_order(self):
        n = len(self.x)
        return self._rng.permutation(n) if self.shuffle else np.arange(n)

    def __len__(self):
        n = len(self.x)
        if self.drop_remainder and n >= self.batch_size:
            return n // self.batch_size
        return max(1, math.ceil(n / self.batch_size))

    def __getitem__(self, i):
        idx = self._order[i * self.batch_size:(i + 1) * self.batch_size]
        xb = np.asarray(self.x[idx], dtype=self.dtype)
        if self.y is None:
            return (xb,)
        return xb, self.y[idx]

    def on_epoch_end(self):
        if self.shuffle:
            self._order = self._new_order()


class BestWeights(keras.callbacks.Callback):
    """Remember the weights of the best epoch of ``monitor`` and restore them at the end.

    Unlike ``keras.callbacks.EarlyStopping(restore_best_weights=True)`` this restores also
    when training ran all epochs. ``best_epoch`` (0-based) and ``best`` are set after
    training.
    """

    def __init__(self, monitor: str = "val_accuracy", mode: str = "max",
                 restore: bool = True) -> None:
        super().__init__()
        self.monitor, self.mode, self.restore = monitor, mode, restore
        self.best, self.best_epoch, self._weights = None, None, None

    def _better(self, value):
        if self.best is None:
            return True
        return value > self.best if self.mode == "max" else value < self.best

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None:
            return
        if self._better(float(value)):
            self.best, self.best_epoch = float(value), epoch
            if self.restore:
                self._weights = [np.array(w) for w in self.model.get_weights()]

    def on_train_end(self, logs=None):
        if self.restore and self._weights is not None:
            self.model.set_weights(self._weights)


class TqdmProgress(keras.callbacks.Callback):
    """One tqdm bar over all training batches; the postfix shows the last epoch's metrics."""

    def __init__(self, epochs: int, steps: int, desc: str = "fit") -> None:
        super().__init__()
        self.epochs, self.steps, self.desc = epochs, steps, desc
        self.bar = None

    def on_train_begin(self, logs=None):
        from tqdm.auto import tqdm

        self.bar = tqdm(total=self.epochs * self.steps, desc=self.desc, unit="batch",
                        leave=False)

    def on_train_batch_end(self, batch, logs=None):
        self.bar.update(1)

    def on_epoch_end(self, epoch, logs=None):
        shown = {k: f"{v:.4g}" for k, v in (logs or {}).items()
                 if k in ("loss", "accuracy", "val_loss", "val_accuracy")}
        self.bar.set_postfix(epoch=epoch + 1, **shown)

    def on_train_end(self, logs=None):
        if self.bar is not None:
            self.bar.close()


def _schedule_callbacks(schedule, params, learning_rate, has_val):
    if schedule is None:
        return []
    if callable(schedule) and not isinstance(schedule, str):
        return [keras.callbacks.LearningRateScheduler(schedule)]
    if schedule not in LR_SCHEDULES:
        raise ValueError(
            f"Expected lr_schedule to be None, a callable(epoch, lr) or one of "
            f"{list(LR_SCHEDULES)}. Received: lr_schedule={schedule!r}."
        )
    params = dict(params or {})
    defaults = _PLATEAU_DEFAULTS if schedule == "plateau" else _STEP_DEFAULTS
    unknown = set(params) - set(defaults)
    if unknown:
        raise ValueError(
            f"lr_schedule={schedule!r} takes lr_schedule_params {sorted(defaults)}. "
            f"Received unknown: {sorted(unknown)}."
        )
    p = {**defaults, **params}
    if schedule == "plateau":
        monitor = p.pop("monitor")
        if monitor == "auto":
            monitor = "val_loss" if has_val else "loss"
        return [keras.callbacks.ReduceLROnPlateau(monitor=monitor, verbose=0, **p)]
    lr0 = float(learning_rate)
    step = check_int(p["step_size"], "step_size")
    gamma = check_float(p["gamma"], "gamma", low=0, low_open=True)
    return [keras.callbacks.LearningRateScheduler(lambda epoch, lr: lr0 * gamma ** (epoch // step))]


class TensorBoardScalars(keras.callbacks.Callback):
    """Write each epoch's scalars to ``log_dir/train`` and ``log_dir/validation``
    (TensorBoard event files)."""

    def __init__(self, log_dir: Any) -> None:
        super().__init__()
        self.log_dir = str(log_dir)

    def on_train_begin(self, logs=None):
        import tensorflow as tf

        self._writers = {
            "train": tf.summary.create_file_writer(self.log_dir + "/train"),
            "validation": tf.summary.create_file_writer(self.log_dir + "/validation"),
        }

    def on_epoch_end(self, epoch, logs=None):
        import tensorflow as tf

        for key, value in (logs or {}).items():
            which = "validation" if key.startswith("val_") else "train"
            name = key[4:] if which == "validation" else key
            with self._writers[which].as_default():
                tf.summary.scalar("epoch_" + name, float(value), step=epoch)
        for w in self._writers.values():
            w.flush()

    def on_train_end(self, logs=None):
        for w in self._writers.values():
            w.close()


def predict_logits(model: keras.Model, x: Any, batch_size: int,
                   dtype: Any = "float32") -> np.ndarray:
    """Logits ``(N, K)`` of ``model(x, training=False)`` in batches, without per-model
    tracing on TensorFlow (faster than ``model.predict`` for small readouts); compiled once per
    model on JAX, without autograd on PyTorch (:func:`spykeflow._steps.predictor`)."""
    from ._steps import predictor

    predict = predictor(model)
    out = [predict(np.asarray(x[i:i + int(batch_size)], dtype=dtype))
           for i in range(0, len(x), int(batch_size))]
    return np.concatenate(out, axis=0)


#: Activation memory one inference batch may use (the largest layer output of the batch).
ACTIVATION_BUDGET_BYTES = 256 * 2**20


def memory_bounded_batch(model: Any, batch_size: int,
                         budget_bytes: int = ACTIVATION_BUDGET_BYTES) -> int:
    """``batch_size`` reduced so that the model's largest layer output for one batch fits in
    ``budget_bytes`` (float32), at least 1.

    Spiking models on clips have large per-sample activations (the 48-48 ConvSNN: 10 x 28 x 28 x
    48 floats = 1.5 MB per clip, so a batch of 1024 holds 1.5 GB per layer output, and a table
    run with inference at batch 1024 peaked at 7 GB RSS). Models whose layer shapes are unknown
    keep ``batch_size``.

    >>> import keras
    >>> m = keras.Sequential([keras.Input((10, 28, 28, 48)), keras.layers.Flatten()])
    >>> memory_bounded_batch(m, 1024)   # 1.5 MB per clip -> 178 clips in 256 MiB
    178
    """
    largest = 0
    for layer in getattr(model, "layers", []):
        try:
            outputs = layer.output
        except (AttributeError, ValueError):
            continue
        for out in outputs if isinstance(outputs, (list, tuple)) else [outputs]:
            dims = tuple(getattr(out, "shape", ()))[1:]
            if dims and all(isinstance(d, int) for d in dims):
                largest = max(largest, int(np.prod(dims)))
    if largest == 0:
        return int(batch_size)
    return int(max(1, min(int(batch_size), budget_bytes // (4 * largest))))


def evaluate_keras(eval_step: Callable, data: tuple[Any, Any], batch_size: int,
                   dtype: Any = "float32") -> tuple[float, float]:
    """Mean loss and accuracy of ``eval_step(x, y) -> (mean loss, n correct)`` over
    ``data = (x, y)``."""
    x, y = data
    total_loss = total_correct = 0.0
    for i in range(0, len(x), batch_size):
        xb = np.asarray(x[i:i + batch_size], dtype=dtype)
        yb = np.asarray(y[i:i + batch_size], dtype=np.int32)
        loss, correct = eval_step(xb, yb)
        total_loss += loss * len(xb)
        total_correct += correct
    return total_loss / len(x), total_correct / len(x)


def fit_keras(
    model: keras.Model,
    x: Any,
    y: Any,
    validation: tuple[Any, Any] | None = None,
    *,
    epochs: int,
    batch_size: int,
    learning_rate: float,
    shuffle: bool = True,
    seed: int = 0,
    drop_remainder: bool = False,
    monitor: str = "auto",
    restore_best: bool = True,
    early_stopping: int | None = None,
    lr_schedule: str | Callable | None = None,
    lr_schedule_params: dict[str, Any] | None = None,
    tensorboard_dir: Any = None,
    progress: bool = True,
    extra_callbacks: Sequence[keras.callbacks.Callback] = (),
    dtype: Any = "float32",
    run_eagerly: bool = False,
    distribution: Any = None,
) -> dict[str, Any]:
    """Train a compiled ``model`` (its ``optimizer`` and ``loss`` are used); return its history.

    The loop is a lean custom one (one traced train step and one traced evaluation step, any
    batch size) that drives standard Keras callbacks (``on_train_begin``,
    ``on_epoch_begin/end``, ``on_train_batch_begin/end``, ``on_train_end``;
    ``model.stop_training`` is honoured), so backends can add their own callbacks.
    Each epoch's logs hold ``loss`` and ``accuracy`` (running means over the epoch's training
    batches, with dropout), ``val_loss`` and ``val_accuracy`` (full validation pass after the
    epoch, no dropout), ``epoch_time`` and ``learning_rate``.

    Parameters
    ----------
    model : keras.Model
        Compiled, mapping ``x`` batches to logits.
    x, y : arrays ``(N, ...)``, ``(N,)`` int
        Training data; ``x`` may be bool/uint8 (cast to ``dtype`` per batch).
    validation : tuple ``(x_val, y_val)`` or None
    monitor : str
        Metric for restore-best and early stopping; ``"auto"`` = ``"val_accuracy"`` with
        validation data, else ``"accuracy"`` (training accuracy, measured with dropout on).
    early_stopping : int or None
        Patience in epochs (None: never stop early).
    run_eagerly : bool
        Skip tracing the steps (debugging; tiny data).
    distribution : keras.distribution.DataParallel / ModelParallel or None
        Train data parallel over its devices (JAX only; the model must have been built in
        ``distribution.scope()``). Every process passes the same data; each trains on its
        share of every global batch (:func:`spykeflow._steps.shard_batch`).

    Returns
    -------
    dict
        ``{"loss": [...], "accuracy": [...], "val_loss": ..., "val_accuracy": ...,
        "epoch_time": [...], "learning_rate": [...], "best_epoch": int or None,
        "monitor": str}``.
    """
    has_val = validation is not None and len(validation[0]) > 0
    if monitor == "auto":
        monitor = "val_accuracy" if has_val else "accuracy"
    mode = "min" if monitor.endswith("loss") else "max"
    train = BatchSequence(x, y, batch_size, shuffle=shuffle, seed=seed,
                          drop_remainder=drop_remainder, dtype=dtype)
    best = BestWeights(monitor=monitor, mode=mode, restore=restore_best)
    callbacks = list(extra_callbacks)
    callbacks += _schedule_callbacks(lr_schedule, lr_schedule_params, learning_rate, has_val)
    callbacks.append(best)
    if early_stopping is not None:
        callbacks.append(keras.callbacks.EarlyStopping(
            monitor=monitor, mode=mode, patience=int(early_stopping), restore_best_weights=False))
    if tensorboard_dir is not None:
        callbacks.append(TensorBoardScalars(tensorboard_dir))
    if progress:
        callbacks.append(TqdmProgress(epochs, len(train)))
    cbs = keras.callbacks.CallbackList(callbacks, add_history=False, add_progbar=False,
                                       model=model, epochs=int(epochs), steps=len(train),
                                       verbose=0)
    steps = make_steps(model, np.shape(x)[1:], run_eagerly, distribution)
    val_batch = max(batch_size, memory_bounded_batch(model, 256))
    history: dict = {}
    model.stop_training = False
    cbs.on_train_begin()
    steps.push()  # callbacks may have set weights or switches (STS mode)
    for epoch in range(int(epochs)):
        cbs.on_epoch_begin(epoch)
        steps.push()
        t0 = time.perf_counter()
        total_loss = total_correct = 0.0
        seen = 0
        for step in range(len(train)):
            cbs.on_train_batch_begin(step)
            xb, yb = train[step]
            loss, correct = steps.train(xb, np.asarray(yb, np.int32))
            total_loss += loss * len(xb)
            total_correct += correct
            seen += len(xb)
            cbs.on_train_batch_end(step, {"loss": loss})
        train.on_epoch_end()
        logs = {"loss": total_loss / seen, "accuracy": total_correct / seen}
        if has_val and validation is not None:
            logs["val_loss"], logs["val_accuracy"] = evaluate_keras(
                steps.evaluate, validation, val_batch, dtype)
        logs["epoch_time"] = time.perf_counter() - t0
        steps.pull()  # callbacks see (and may change) this epoch's weights
        logs["learning_rate"] = float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
        cbs.on_epoch_end(epoch, logs)
        steps.push()
        for key, value in logs.items():
            history.setdefault(key, []).append(float(value))
        logger.debug("epoch %d/%d %s", epoch + 1, epochs,
                     " ".join(f"{k}={v:.4g}" for k, v in logs.items()))
        if model.stop_training:
            break
    cbs.on_train_end()  # restore-best writes the model's variables
    history["best_epoch"] = best.best_epoch
    history["monitor"] = monitor
    if best.best_epoch is not None:
        logger.info("best %s = %.4f at epoch %d", monitor, best.best, best.best_epoch + 1)
    return history
