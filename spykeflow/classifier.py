"""``Classifier``: one scikit-learn estimator facade over every readout / spiking backend.

The facade owns what all backends share -- input validation, label encoding, the validation
split, seeding, the Keras training loop (:mod:`spykeflow.training`), prediction, metrics and
save/load -- and asks the backend (:mod:`spykeflow.backends`) only for the model.

Example (tiny, fast)::

    >>> import numpy as np
    >>> from spykeflow import Classifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.random((60, 6)) < 0.3; y = X[:, 0].astype(int)
    >>> clf = Classifier("svm").fit(X, y)
    >>> clf.classes_.tolist(), clf.predict(X[:3]).shape
    ([0, 1], (3,))
"""

from __future__ import annotations

import copy
import json
import logging
import os
import pathlib
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from . import backends as _backends
from . import metrics as _metrics
from ._validation import check_bool, check_float, check_in, check_int
from .io import load_folder, save_folder

logger = logging.getLogger("spykeflow.classifier")

__all__ = ["Classifier", "PRESETS", "FORMAT", "FORMAT_VERSION"]

#: Format name and version of a saved Classifier folder (:func:`spykeflow.io.save_folder`).
FORMAT = "spykeflow.Classifier"
FORMAT_VERSION = 2
_MODEL_FILE = "model.keras"


def _original_notebook(backend: str, backend_params: dict[str, Any], learning_rate: float,
                       epochs: int) -> dict[str, Any]:
    """Classifier arguments of one run of the original notebooks
    (``docs/original/readout.md#training-loop`` and ``#published-settings``)."""
    return dict(
        backend=backend,
        backend_params={**backend_params, "dropout": 0.5, "dropout_mode": "force_off"},
        optimizer="sgd", learning_rate=learning_rate, epochs=epochs, batch_size=5,
        shuffle=False, validation_split=0.09, validation_mode="first", drop_remainder=True,
        restore_best=True,
    )


#: Published configurations, by name: the Classifier arguments of the original notebooks
#: (plain SGD, batch 5, no shuffling, the first 9 % as validation, last partial batch dropped,
#: force-off dropout 0.5, test at the best validation epoch). Use :meth:`Classifier.preset`.
PRESETS: dict[str, dict[str, Any]] = {
    "mnist_sg1": _original_notebook("binary", {"hidden": 1000, "surrogate": "sg1"}, 0.01, 40),
    "mnist_sg2": _original_notebook("binary", {"hidden": 1000, "surrogate": "sg2"}, 0.01, 40),
    "mnist_relu": _original_notebook("relu", {"hidden": 900, "loss": "quadratic"}, 0.0125, 40),
    "emnist_sg1": _original_notebook("binary", {"hidden": 1500, "surrogate": "sg1"}, 0.02, 35),
    "emnist_sg2": _original_notebook("binary", {"hidden": 1500, "surrogate": "sg2"}, 0.02, 35),
    "emnist_relu": _original_notebook("relu", {"hidden": 1500}, 0.05, 35),
}


class Classifier(ClassifierMixin, BaseEstimator):
    """Train and apply a readout or spiking classifier chosen by name.

    Parameters
    ----------
    backend : str
        Registered backend name (``spykeflow.backends.available()``): ``"binary"`` (binary
        activations + surrogate gradient, the SpykeFlow readout), ``"relu"`` (actual-gradient
        baseline), ``"svm"`` (LinearSVC) and the BPTT spiking backends.
    backend_params : dict or None
        Keyword arguments of the backend's constructor (e.g. ``{"hidden": 1000, "surrogate":
        "sg1"}`` for ``"binary"``; see :mod:`spykeflow.backends`); None: its defaults. Change
        them with ``set_params(backend_params={...})``.
    epochs, batch_size : int
    optimizer : str
        Keras optimizer name (``"adam"``, ``"sgd"``, ``"rmsprop"``, ...).
    learning_rate : float
    optimizer_params : dict or None
        Extra optimizer settings (``{"momentum": 0.9}``, ``{"amsgrad": True, "clipnorm": 1}``).
    lr_schedule : None, "plateau", "step" or callable(epoch, lr) -> lr
    lr_schedule_params : dict or None
        ``"plateau"``: factor (0.5), patience (3), min_lr (1e-6), monitor ("auto" = val_loss);
        ``"step"``: step_size (10 epochs), gamma (0.1).
    validation_split : float in [0, 1)
        Share of the training data held out for model selection (ignored when ``fit`` gets
        ``validation_data``).
    validation_mode : {"stratified", "random", "first"}
        Seeded stratified split (default), seeded random split, or the original's first
        ``int(validation_split * N)`` samples of the stored order.
    shuffle : bool
        Reshuffle the training samples every epoch (seeded). The original never shuffled.
    drop_remainder : bool
        Drop the last partial batch of each epoch (the original did).
    restore_best : bool
        Keep the weights of the epoch with the best ``monitor`` value (the original's
        "test@best-val"); ``False`` keeps the final epoch.
    monitor : str
        ``"auto"`` = ``"val_accuracy"`` with validation data, else ``"accuracy"``.
    early_stopping : int or None
        Stop after this many epochs without improvement of ``monitor``.
    seed : int
        Seeds initialisation, dropout, split and shuffling: same seed, same predictions.
    tensorboard_dir : str or None
        Write TensorBoard logs there.
    progress : bool
        Show a tqdm progress bar while training (each epoch's metrics are also logged at DEBUG
        level on the ``spykeflow.training`` logger).
    predict_batch_size : int
        Inference batch size; reduced automatically where one batch's largest layer output
        would exceed 256 MB (``spykeflow.training.memory_bounded_batch``).
    callbacks : list of keras.callbacks.Callback or None
        Extra callbacks for the Keras training loop (after the backend's own).
    run_eagerly : bool
        Run the training steps eagerly instead of tracing them (debugging, or tiny data where
        tracing dominates).
    distribution : None, "data_parallel", keras.distribution.DataParallel or ModelParallel
        Train a Keras backend data parallel (JAX backend only): ``"data_parallel"`` is
        ``keras.distribution.DataParallel`` over every device -- all devices of this host, or
        of every process after ``keras.distribution.initialize`` (multi-host; every process
        runs the same script on the same data and trains on its share of each global batch).
        None uses the distribution set with ``keras.distribution.set_distribution``, if any.
        The global batch is ``batch_size``; results equal one-device training on the same
        batches up to float round-off (README, "Training on several devices and hosts").

    Attributes
    ----------
    classes_ : array ``(K,)``
        Class labels (any sortable values); predictions are mapped back to them.
    n_features_in_ : int
    input_shape_ : tuple
        Shape of one sample.
    backend_ : Backend
        The fitted backend instance.
    model_ : keras.Model or None
        The trained Keras model (None for estimator backends).
    history_ : dict
        Per-epoch ``loss``, ``accuracy``, ``val_loss``, ``val_accuracy``, ``epoch_time`` (s),
        ``learning_rate``, plus ``best_epoch`` (0-based) and ``monitor``.

    Notes
    -----
    Determinism: ``fit`` calls ``keras.utils.set_random_seed(seed)`` (Python, NumPy and
    TensorFlow global seeds) and every initialiser and dropout stream gets an explicit seed,
    so runs on the same machine and TensorFlow build repeat exactly on CPU. Multi-threaded
    reductions of other TensorFlow kernels (and GPUs) can differ in the last bits between
    builds or thread counts.
    """

    # learned attributes (set by fit and load)
    classes_: np.ndarray
    input_shape_: tuple
    backend_: _backends.Backend
    model_: Any
    history_: dict[str, Any]

    def __init__(
        self,
        backend: str = "binary",
        *,
        backend_params: dict[str, Any] | None = None,
        epochs: int = 20,
        batch_size: int = 64,
        optimizer: str = "adam",
        learning_rate: float = 1e-3,
        optimizer_params: dict[str, Any] | None = None,
        lr_schedule: str | Callable[[int, float], float] | None = None,
        lr_schedule_params: dict[str, Any] | None = None,
        validation_split: float = 0.09,
        validation_mode: str = "stratified",
        shuffle: bool = True,
        drop_remainder: bool = False,
        restore_best: bool = True,
        monitor: str = "auto",
        early_stopping: int | None = None,
        seed: int = 0,
        tensorboard_dir: str | os.PathLike | None = None,
        progress: bool = True,
        predict_batch_size: int = 1024,
        run_eagerly: bool = False,
        callbacks: Sequence[Any] | None = None,
        distribution: Any = None,
    ) -> None:
        # scikit-learn convention: store the arguments unchanged; fit() validates them.
        self.backend = backend
        self.backend_params = backend_params
        self.epochs = epochs
        self.batch_size = batch_size
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.optimizer_params = optimizer_params
        self.lr_schedule = lr_schedule
        self.lr_schedule_params = lr_schedule_params
        self.validation_split = validation_split
        self.validation_mode = validation_mode
        self.shuffle = shuffle
        self.drop_remainder = drop_remainder
        self.restore_best = restore_best
        self.monitor = monitor
        self.early_stopping = early_stopping
        self.seed = seed
        self.tensorboard_dir = tensorboard_dir
        self.progress = progress
        self.predict_batch_size = predict_batch_size
        self.run_eagerly = run_eagerly
        self.callbacks = callbacks
        self.distribution = distribution

    # ------------------------------------------------------------------ parameters
    @classmethod
    def preset(cls, name: str, **overrides: Any) -> Classifier:
        """A Classifier with a published configuration from ``spykeflow.classifier.PRESETS``.

        ``"mnist_sg1"``, ``"mnist_sg2"``, ``"mnist_relu"``, ``"emnist_sg1"``,
        ``"emnist_sg2"``, ``"emnist_relu"``: the original notebooks' classifier runs (binary
        hidden units with surrogate gradient 1 or 2, or the ReLU baseline) with their training
        settings (``docs/original/readout.md#published-settings``). Slow: use for fidelity
        runs.

        ``overrides`` replace Classifier parameters; a ``backend_params`` override is merged
        into the preset's backend parameters.

        >>> clf = Classifier.preset("mnist_sg1", epochs=3, backend_params={"hidden": 32})
        >>> clf.optimizer, clf.batch_size, clf.epochs, clf.backend_params["hidden"]
        ('sgd', 5, 3, 32)
        """
        check_in(name, "name", list(PRESETS))
        params = copy.deepcopy(PRESETS[name])
        extra = overrides.pop("backend_params", None) or {}
        if not isinstance(extra, dict):
            raise TypeError(f"Expected backend_params to be a dict. Received: "
                            f"backend_params={extra!r}.")
        params["backend_params"].update(extra)
        params.update(overrides)
        return cls(**params)

    def _make_backend(self) -> _backends.Backend:
        bparams = self.backend_params or {}
        if not isinstance(bparams, dict):
            raise TypeError(f"Expected backend_params to be a dict or None. "
                            f"Received: backend_params={bparams!r}.")
        return _backends.get(self.backend, **bparams)

    def _validate_params(self) -> None:
        check_int(self.epochs, "epochs")
        check_int(self.batch_size, "batch_size")
        check_int(self.predict_batch_size, "predict_batch_size")
        check_int(self.seed, "seed", minimum=0)
        check_float(self.learning_rate, "learning_rate", low=0, low_open=True)
        check_int(self.early_stopping, "early_stopping", allow_none=True)
        for name in ("shuffle", "drop_remainder", "restore_best", "progress", "run_eagerly"):
            check_bool(getattr(self, name), name)
        if self.tensorboard_dir is not None:
            import importlib.util

            if importlib.util.find_spec("tensorboard") is None:
                raise ImportError(
                    "tensorboard_dir needs the 'tensorboard' package, which is not installed. "
                    "Install it (pip install tensorboard) or pass tensorboard_dir=None."
                )

    def _resolve_distribution(self) -> Any:
        """The ``keras.distribution`` distribution to train with, or None (see
        ``distribution``)."""
        import keras

        from . import _backend

        dist = self.distribution
        if dist is None:
            return keras.distribution.distribution()
        if isinstance(dist, str) and dist == "data_parallel":
            if _backend.name() != "jax":
                raise _backend.unsupported(
                    "distribution='data_parallel'",
                    "Data-parallel training runs on JAX: set KERAS_BACKEND=jax before "
                    "importing keras, or pass distribution=None.")
            return keras.distribution.DataParallel(devices=keras.distribution.list_devices())
        if isinstance(dist, (keras.distribution.DataParallel, keras.distribution.ModelParallel)):
            return dist
        raise ValueError(
            "Expected distribution=None, 'data_parallel' or a keras.distribution.DataParallel / "
            f"ModelParallel. Received: {dist!r}.")

    # ------------------------------------------------------------------ data
    def _validate_x(self, X: Any, reset: bool, y: Any = None) -> tuple[np.ndarray, Any]:
        """Validated ``(X, y)``; X keeps bool/small-int dtypes (cast per batch), floats -> f32."""
        kw = dict(accept_sparse=False, allow_nd=True, dtype="numeric",
                  ensure_all_finite=True, ensure_min_samples=1)
        if reset:
            X, y = validate_data(self, X, y, reset=True, y_numeric=False, **kw)
        else:
            if getattr(self, "input_shape_", None) is not None and len(self.input_shape_) == 1:
                X = validate_data(self, X, reset=False, **kw)
            else:
                X = check_array(X, **kw)
        if X.dtype == bool or (X.dtype.kind in "ui" and X.dtype.itemsize <= 2):
            pass
        else:
            X = X.astype(np.float32, copy=False)
            if not np.isfinite(X).all():
                raise ValueError(
                    "Input X contains values that overflow float32 (inf after the cast). "
                    "Rescale the features."
                )
        return X, y

    def _check_shape(self, X):
        expected = tuple(self.input_shape_)
        got = tuple(X.shape[1:])
        seq = len(expected) >= 2
        same_layout = len(got) == len(expected) and got[1:] == expected[1:]
        if (not seq and got != expected) or (seq and not same_layout):
            raise ValueError(
                f"X has {X.shape[1] if X.ndim > 1 else 0} features, but Classifier is expecting "
                f"{expected[0]} features as input (sample shape {got} vs {expected} at fit). "
                "Pass data with the same layout as in fit."
            )

    def _encode(self, y, name="y"):
        y = np.asarray(y)
        if y.ndim != 1:
            y = y.ravel()
        idx = np.searchsorted(self.classes_, y)
        idx = np.clip(idx, 0, len(self.classes_) - 1)
        bad = self.classes_[idx] != y
        if np.any(bad):
            raise ValueError(
                f"{name} contains labels not seen in fit: {np.unique(y[bad])[:10].tolist()}. "
                f"Expected labels among classes_={self.classes_.tolist()[:20]}."
            )
        return idx.astype(np.int32)

    # ------------------------------------------------------------------ fit
    def fit(self, X: Any, y: Any, validation_data: tuple[Any, Any] | None = None) -> Classifier:
        """Train on ``X`` ``(N, F)`` or ``(N, T, ...)`` (bool or numbers) and labels ``y``.

        Parameters
        ----------
        X : array ``(N, F)`` or ``(N, T, ...)``
        y : array ``(N,)``
            Any label values (at least two distinct).
        validation_data : tuple ``(X_val, y_val)`` or None
            Explicit validation set (replaces ``validation_split``).

        Returns
        -------
        self
        """
        self._validate_params()
        backend = self._make_backend()
        if y is None:
            raise ValueError(
                "Classifier requires y to be passed, but the target y is None. Pass the labels."
            )
        X, y = self._validate_x(X, reset=True, y=y)
        backend.check_input(X)
        check_classification_targets(y)
        classes, y_enc = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            raise ValueError(
                f"Classifier needs samples of at least 2 classes in y. Received 1 class: "
                f"{classes.tolist()}. Check the labels (one class cannot be classified)."
            )
        self.classes_ = classes
        self.input_shape_ = tuple(int(s) for s in X.shape[1:])
        y_enc = y_enc.astype(np.int32)

        if isinstance(backend, _backends.EstimatorBackend):
            backend.fit(X, y_enc, seed=int(self.seed))
            self.backend_ = backend
            self.model_ = None
            self.history_ = {}
            return self
        if not isinstance(backend, _backends.KerasBackend):  # pragma: no cover - registry bug
            raise TypeError(f"Backend {self.backend!r} is neither a KerasBackend nor an "
                            "EstimatorBackend.")

        import keras

        from .training import fit_keras, make_optimizer, split_validation

        if validation_data is not None:
            if not (isinstance(validation_data, (tuple, list)) and len(validation_data) == 2):
                raise ValueError(
                    "Expected validation_data=(X_val, y_val). "
                    f"Received: {type(validation_data).__name__}."
                )
            xv, _ = self._validate_x(validation_data[0], reset=False)
            self._check_shape(xv)
            yv = np.asarray(validation_data[1]).ravel()
            if len(xv) != len(yv):
                raise ValueError(
                    f"validation_data has {len(xv)} samples but {len(yv)} labels. "
                    "Pass X_val and y_val of equal length."
                )
            validation: tuple[Any, Any] | None = (xv, self._encode(yv, "y_val"))
            x_tr, y_tr = X, y_enc
        else:
            tr, va = split_validation(y_enc, self.validation_split, self.validation_mode,
                                      int(self.seed))
            if self.validation_split > 0 and len(va) == 0:
                logger.warning("validation_split=%s gives no validation sample; training "
                               "without validation", self.validation_split)
            validation = (X[va], y_enc[va]) if len(va) else None
            x_tr, y_tr = (X[tr], y_enc[tr]) if len(va) else (X, y_enc)

        distribution = self._resolve_distribution()
        from . import _backend

        with _backend.scope(distribution):
            keras.utils.set_random_seed(int(self.seed))
            model = backend.build_model(self.input_shape_, len(classes), int(self.seed))
            model.compile(
                optimizer=make_optimizer(self.optimizer, self.learning_rate,
                                         self.optimizer_params),
                loss=backend.loss(),
                metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
                **{"jit_compile": keras.backend.backend() == "jax",
                   **backend.compile_kwargs()},
            )
            self.history_ = fit_keras(
                model, x_tr, y_tr, validation,
                epochs=self.epochs, batch_size=self.batch_size,
                learning_rate=self.learning_rate, shuffle=self.shuffle, seed=int(self.seed),
                drop_remainder=self.drop_remainder, monitor=self.monitor,
                restore_best=self.restore_best, early_stopping=self.early_stopping,
                lr_schedule=self.lr_schedule, lr_schedule_params=self.lr_schedule_params,
                tensorboard_dir=self.tensorboard_dir, progress=self.progress,
                extra_callbacks=backend.callbacks() + list(self.callbacks or []),
                run_eagerly=self.run_eagerly, distribution=distribution,
            )
            backend.after_fit(model, x_tr, y_tr, int(self.seed))
        self.distribution_ = distribution
        self.backend_ = backend
        self.model_ = model
        return self

    # ------------------------------------------------------------------ predict
    def decision_scores(self, X: Any, **predict_options: Any) -> np.ndarray:
        """Logits (Keras backends) or decision scores (estimator backends), ``(N, K)``.

        ``predict_options`` go to the backend (e.g. ``time_steps=`` for converted SNNs).
        """
        check_is_fitted(self, "backend_")
        X, _ = self._validate_x(X, reset=False)
        self._check_shape(X)
        backend = self.backend_
        if isinstance(backend, _backends.EstimatorBackend):
            if predict_options:
                raise TypeError(
                    f"Backend {self.backend!r} takes no prediction options. "
                    f"Received: {sorted(predict_options)}."
                )
            return np.asarray(backend.decision(X), np.float64)
        assert isinstance(backend, _backends.KerasBackend) and self.model_ is not None
        if X.dtype != np.float32:
            X = X.astype(np.float32)
        from .training import memory_bounded_batch

        batch = memory_bounded_batch(self.model_, int(self.predict_batch_size))
        from . import _backend

        with _backend.scope(getattr(self, "distribution_", None)):
            logits = backend.predict_logits(self.model_, X, batch, **predict_options)
        return np.asarray(logits, np.float64)

    def predict(self, X: Any, **predict_options: Any) -> np.ndarray:
        """Predicted labels ``(N,)`` (values of ``classes_``)."""
        scores = self.decision_scores(X, **predict_options)
        return self.classes_[np.argmax(scores, axis=1)]

    def predict_proba(self, X: Any, **predict_options: Any) -> np.ndarray:
        """Class probabilities ``(N, K)``: softmax of the logits / decision scores."""
        scores = self.decision_scores(X, **predict_options)
        scores = scores - scores.max(axis=1, keepdims=True)
        e = np.exp(scores)
        return e / e.sum(axis=1, keepdims=True)

    def evaluate(self, X: Any, y: Any, groups: str | Sequence[int] | None = None,
                 collapse: str | Sequence[str] | None = None,
                 **predict_options: Any) -> dict[str, Any]:
        """Metrics on ``(X, y)`` as data.

        Parameters
        ----------
        groups : "emnist", array ``(K,)`` of group ids, or None
            Adds ``conditioned_accuracy`` (arg-max restricted to the true label's group).
        collapse : "emnist", sequence of character sets, or None
            Adds ``collapsed_accuracy`` (EMNIST confusable sets); ``classes_`` must be EMNIST
            class indices 0..46 (``"emnist"``) or characters.

        Returns
        -------
        dict
            ``accuracy``, ``per_class_accuracy`` (K,), ``confusion_matrix`` (K, K) counts
            (rows = true class), ``classes`` (K,), ``n_samples``, and the optional entries.
        """
        check_is_fitted(self, "backend_")
        scores = self.decision_scores(X, **predict_options)
        y = np.asarray(y)
        if len(y) != len(scores):
            raise ValueError(
                f"X has {len(scores)} samples but y has {len(y)} labels. Pass equal lengths."
            )
        y_idx = self._encode(y)
        pred = np.argmax(scores, axis=1)
        k = len(self.classes_)
        out = {
            "accuracy": _metrics.accuracy(y_idx, pred),
            "per_class_accuracy": _metrics.per_class_accuracy(y_idx, pred, k),
            "confusion_matrix": _metrics.confusion_matrix(y_idx, pred, k),
            "classes": self.classes_.copy(),
            "n_samples": int(len(y)),
        }
        if groups is not None:
            g = self._class_groups(groups)
            out["conditioned_accuracy"] = _metrics.conditioned_accuracy(scores, y_idx, g)
        if collapse is not None:
            chars = self._class_chars()
            sets = _metrics.EMNIST_COLLAPSE_SETS if collapse == "emnist" else collapse
            out["collapsed_accuracy"] = _metrics.collapsed_accuracy(
                y_idx, pred, mapping=chars, sets=sets)
        return out

    def _class_chars(self):
        c = self.classes_
        if c.dtype.kind in "iu":
            full = _metrics.emnist_chars()
            if c.min() < 0 or c.max() >= len(full):
                raise ValueError("classes_ are not EMNIST class indices 0..46.")
            return [full[int(i)] for i in c]
        return [str(v) for v in c]

    def _class_groups(self, groups):
        if isinstance(groups, str):
            if groups != "emnist":
                raise ValueError(f"Expected groups='emnist' or an array. Received: {groups!r}.")
            return _metrics.emnist_groups(self._class_chars())
        g = np.asarray(groups)
        if g.shape != (len(self.classes_),):
            raise ValueError(
                f"Expected groups of shape ({len(self.classes_)},) (one id per class). "
                f"Received: shape={g.shape}."
            )
        return g

    # ------------------------------------------------------------------ save / load
    def _json_params(self) -> dict[str, Any]:
        out = {}
        for key, value in self.get_params(deep=False).items():
            if isinstance(value, os.PathLike):
                value = os.fspath(value)
            try:
                json.dumps(value)
                out[key] = value
            except TypeError:
                logger.warning("parameter %s=%r is not JSON-serialisable; saved as None",
                               key, value)
                out[key] = None
        return out

    def save(self, path: str | os.PathLike) -> pathlib.Path:
        """Save the fitted classifier to the folder ``path`` (created or replaced atomically).

        The folder is written by :func:`spykeflow.io.save_folder` (format
        ``"spykeflow.Classifier"``, version 2): ``manifest.json`` holds the backend name and
        configuration, the facade parameters (those that are not JSON-serialisable, such as a
        callable ``lr_schedule`` or ``callbacks``, are saved as None), the sample shape and the
        history; ``arrays.npz`` holds ``classes_`` and an estimator backend's state (no
        pickle); Keras backends add ``model.keras``.
        """
        check_is_fitted(self, "backend_")
        if self.classes_.dtype == object:
            raise TypeError("classes_ of dtype object cannot be saved without pickle; "
                            "use numeric or string labels.")
        metadata = {
            "backend": self.backend_.name or self.backend,
            "backend_config": self.backend_.get_config(),
            "params": self._json_params(),
            "input_shape": list(self.input_shape_),
            "history": self.history_,
            "model": "keras" if self.model_ is not None else "estimator",
        }
        arrays = {"classes_": self.classes_}
        files = {}
        if isinstance(self.backend_, _backends.EstimatorBackend):
            arrays.update({f"state__{k}": v for k, v in self.backend_.get_state().items()})
        else:
            model = self.model_
            files[_MODEL_FILE] = lambda file: model.save(file)
        return save_folder(path, FORMAT, FORMAT_VERSION, metadata, arrays=arrays, files=files)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Classifier:
        """Load a classifier written by :meth:`save` (the Keras model in ``safe_mode``).

        Checks the format and every file's checksum (:func:`spykeflow.io.load_folder`).
        """
        path = pathlib.Path(path)
        meta, arrays = load_folder(path, FORMAT, FORMAT_VERSION)
        params = {k: v for k, v in meta["params"].items() if k in cls._get_param_names()}
        params["backend_params"] = dict(meta["backend_config"])
        clf = cls(**params)
        backend = _backends.get(meta["backend"], **meta["backend_config"])
        clf.classes_ = arrays["classes_"]
        clf.input_shape_ = tuple(meta["input_shape"])
        if len(clf.input_shape_) >= 1:
            clf.n_features_in_ = int(clf.input_shape_[0])
        clf.history_ = meta.get("history", {})
        if isinstance(backend, _backends.KerasBackend):
            import keras

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                clf.model_ = keras.saving.load_model(
                    path / _MODEL_FILE, safe_mode=True, compile=False,
                    custom_objects=backend.custom_objects() or None)
        elif isinstance(backend, _backends.EstimatorBackend):
            backend.set_state({k[len("state__"):]: v for k, v in arrays.items()
                               if k.startswith("state__")})
            clf.model_ = None
        clf.backend_ = backend
        return clf

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.input_tags.sparse = False
        return tags
