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

import json
import logging
import os
import pathlib
import shutil
import tempfile
import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from . import backends as _backends
from . import metrics as _metrics
from ._validation import check_int
from ._version import __version__

logger = logging.getLogger("spykeflow.classifier")

__all__ = ["Classifier", "REFERENCE_SETTINGS"]

_FORMAT = "spykeflow.classifier/1"

#: Settings of the original notebooks (reference C5/C6): plain SGD, batch 5, no shuffling,
#: validation = first 9 %, drop the last partial batch, test@best-val.
REFERENCE_SETTINGS = {
    ("mnist", "sg1"): dict(hidden=1000, learning_rate=0.01, epochs=40),
    ("mnist", "sg2"): dict(hidden=1000, learning_rate=0.01, epochs=40),
    ("mnist", "relu"): dict(hidden=900, learning_rate=0.0125, epochs=40),
    ("emnist", "sg1"): dict(hidden=1500, learning_rate=0.02, epochs=35),
    ("emnist", "sg2"): dict(hidden=1500, learning_rate=0.02, epochs=35),
    ("emnist", "relu"): dict(hidden=1500, learning_rate=0.05, epochs=35),
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
        Hyper-parameters of the backend (e.g. ``{"hidden": 1000, "surrogate": "sg1"}``).
        Unknown keyword arguments of the constructor are merged into it, so
        ``Classifier("binary", hidden=1000)`` works; ``set_params(hidden=...)`` too.
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
        Seeded stratified split (default), seeded random split, or the reference's first
        ``int(validation_split * N)`` samples of the stored order.
    shuffle : bool
        Reshuffle the training samples every epoch (seeded). The original never shuffled.
    drop_remainder : bool
        Drop the last partial batch of each epoch (the original did).
    restore_best : bool
        Keep the weights of the epoch with the best ``monitor`` value (the reference's
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
        Show a tqdm progress bar while training.
    verbose : int
        Keras' own progress output (0 silent).
    predict_batch_size : int
        Inference batch size; reduced automatically where one batch's largest layer output
        would exceed 256 MB (:func:`spykeflow.training.memory_bounded_batch`).
    callbacks : list of keras.callbacks.Callback or None
        Extra callbacks for the Keras training loop (after the backend's own).
    run_eagerly : bool
        Run the training steps eagerly instead of tracing them (debugging, or tiny data where
        tracing dominates).

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

    def __init__(
        self,
        backend="binary",
        *,
        backend_params=None,
        epochs=20,
        batch_size=64,
        optimizer="adam",
        learning_rate=1e-3,
        optimizer_params=None,
        lr_schedule=None,
        lr_schedule_params=None,
        validation_split=0.09,
        validation_mode="stratified",
        shuffle=True,
        drop_remainder=False,
        restore_best=True,
        monitor="auto",
        early_stopping=None,
        seed=0,
        tensorboard_dir=None,
        progress=True,
        verbose=0,
        predict_batch_size=1024,
        run_eagerly=False,
        callbacks=None,
        **kwargs,
    ):
        self.backend = backend
        if kwargs and (backend_params is None or isinstance(backend_params, dict)):
            backend_params = {**(backend_params or {}), **kwargs}
        self.backend_params = backend_params  # a non-dict is rejected by fit()
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
        self.verbose = verbose
        self.predict_batch_size = predict_batch_size
        self.run_eagerly = run_eagerly
        self.callbacks = callbacks

    # ------------------------------------------------------------------ parameters
    def set_params(self, **params):
        """Set facade parameters; names that are not facade parameters go to ``backend_params``."""
        own = self._get_param_names()
        extra = {k: v for k, v in params.items() if k not in own}
        rest = {k: v for k, v in params.items() if k in own}
        if extra:
            base = rest.pop("backend_params", self.backend_params)
            if base is None or isinstance(base, dict):
                base = {**(base or {}), **extra}
            rest["backend_params"] = base  # a non-dict is rejected by fit()
        return super().set_params(**rest)

    @classmethod
    def reference(cls, task="mnist", variant="sg1", **overrides):
        """A Classifier configured like the original notebooks (reference C1, C3-C8).

        ``variant``: ``"sg1"``/``"sg2"`` (binary backend with that surrogate) or ``"relu"``.
        Plain SGD, batch 5, no shuffling, first 9 % as validation, last partial batch
        dropped, dropout 0.5 as ``z := -1``, restore best-val. Slow: use for fidelity runs.
        """
        key = (task, variant)
        if key not in REFERENCE_SETTINGS:
            raise ValueError(
                f"Expected (task, variant) in {sorted(REFERENCE_SETTINGS)}. Received: {key}."
            )
        s = dict(REFERENCE_SETTINGS[key])
        backend = "relu" if variant == "relu" else "binary"
        bparams = {"hidden": s.pop("hidden"), "dropout": 0.5, "dropout_mode": "force_off"}
        if backend == "binary":
            bparams["surrogate"] = variant
        elif task == "mnist":
            bparams["cost"] = "quadratic"
        params = dict(
            backend=backend, backend_params=bparams, optimizer="sgd", batch_size=5,
            shuffle=False, validation_split=0.09, validation_mode="first",
            drop_remainder=True, restore_best=True, **s,
        )
        params.update(overrides)
        return cls(**params)

    def _make_backend(self):
        bparams = self.backend_params or {}
        if not isinstance(bparams, dict):
            raise TypeError(
                f"Expected backend_params to be a dict. Received: {type(bparams).__name__}."
            )
        return _backends.get(self.backend, **bparams)

    def _check_params(self):
        check_int(self.epochs, "epochs")
        check_int(self.batch_size, "batch_size")
        check_int(self.predict_batch_size, "predict_batch_size")
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)):
            raise TypeError(f"Expected an integer seed. Received: seed={self.seed!r}.")
        lr = self.learning_rate
        if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not lr > 0:
            raise ValueError(f"Expected learning_rate > 0. Received: learning_rate={lr!r}.")
        if self.early_stopping is not None:
            check_int(self.early_stopping, "early_stopping")
        if self.tensorboard_dir is not None:
            import importlib.util

            if importlib.util.find_spec("tensorboard") is None:
                raise ImportError(
                    "tensorboard_dir needs the 'tensorboard' package, which is not installed. "
                    "Install it (pip install tensorboard) or pass tensorboard_dir=None."
                )

    # ------------------------------------------------------------------ data
    def _validate_x(self, X, reset, y=None):
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
        if (not seq and got != expected) or (seq and (len(got) != len(expected) or got[1:] != expected[1:])):
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
    def fit(self, X, y, validation_data=None):
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
        self._check_params()
        backend = self._make_backend()
        if y is None:
            raise ValueError("Classifier requires y to be passed, but the target y is None. Pass the labels.")
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
            validation = (xv, self._encode(yv, "y_val"))
            x_tr, y_tr = X, y_enc
        else:
            tr, va = split_validation(y_enc, self.validation_split, self.validation_mode,
                                      int(self.seed))
            if self.validation_split > 0 and len(va) == 0:
                logger.warning("validation_split=%s gives no validation sample; training "
                               "without validation", self.validation_split)
            validation = (X[va], y_enc[va]) if len(va) else None
            x_tr, y_tr = (X[tr], y_enc[tr]) if len(va) else (X, y_enc)

        keras.utils.set_random_seed(int(self.seed))
        model = backend.build_model(self.input_shape_, len(classes), int(self.seed))
        model.compile(
            optimizer=make_optimizer(self.optimizer, self.learning_rate, self.optimizer_params),
            loss=backend.loss(),
            metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
            **{"jit_compile": False, **backend.compile_kwargs()},
        )
        self.history_ = fit_keras(
            model, x_tr, y_tr, validation,
            epochs=self.epochs, batch_size=self.batch_size, learning_rate=self.learning_rate,
            shuffle=self.shuffle, seed=int(self.seed), drop_remainder=self.drop_remainder,
            monitor=self.monitor, restore_best=self.restore_best,
            early_stopping=self.early_stopping, lr_schedule=self.lr_schedule,
            lr_schedule_params=self.lr_schedule_params, tensorboard_dir=self.tensorboard_dir,
            progress=self.progress, verbose=self.verbose, extra_callbacks=backend.callbacks() + list(self.callbacks or []),
            run_eagerly=bool(self.run_eagerly),
        )
        backend.after_fit(model, x_tr, y_tr, int(self.seed))
        self.backend_ = backend
        self.model_ = model
        return self

    # ------------------------------------------------------------------ predict
    def decision_scores(self, X, **predict_options):
        """Logits (Keras backends) or decision scores (estimator backends), ``(N, K)``.

        ``predict_options`` go to the backend (e.g. ``timesteps=`` for converted SNNs).
        """
        check_is_fitted(self, "backend_")
        X, _ = self._validate_x(X, reset=False)
        self._check_shape(X)
        if self.model_ is None:
            if predict_options:
                raise TypeError(
                    f"Backend {self.backend!r} takes no prediction options. "
                    f"Received: {sorted(predict_options)}."
                )
            return np.asarray(self.backend_.decision(X), np.float64)
        if X.dtype != np.float32:
            X = X.astype(np.float32)
        from .training import memory_bounded_batch

        batch = memory_bounded_batch(self.model_, int(self.predict_batch_size))
        logits = self.backend_.predict_logits(self.model_, X, batch, **predict_options)
        return np.asarray(logits, np.float64)

    def predict(self, X, **predict_options):
        """Predicted labels ``(N,)`` (values of :attr:`classes_`)."""
        scores = self.decision_scores(X, **predict_options)
        return self.classes_[np.argmax(scores, axis=1)]

    def predict_proba(self, X, **predict_options):
        """Class probabilities ``(N, K)``: softmax of the logits / decision scores."""
        scores = self.decision_scores(X, **predict_options)
        scores = scores - scores.max(axis=1, keepdims=True)
        e = np.exp(scores)
        return e / e.sum(axis=1, keepdims=True)

    def evaluate(self, X, y, groups=None, collapse=None, **predict_options):
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
    def _json_params(self):
        params = self.get_params(deep=False)
        out = {}
        for key, value in params.items():
            try:
                json.dumps(value)
                out[key] = value
            except TypeError:
                logger.warning("parameter %s=%r is not JSON-serialisable; saved as None", key, value)
                out[key] = None
        return out

    def save(self, path):
        """Save the fitted classifier to the folder ``path`` (created or replaced).

        Files: ``metadata.json`` (format, versions, backend name and config, facade
        parameters, history), ``arrays.npz`` (``classes_`` and estimator state; no pickle) and
        ``model.keras`` for Keras backends. Written to a temporary folder and renamed into place.
        """
        check_is_fitted(self, "backend_")
        path = pathlib.Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        from .io import save_npz_atomic, write_json_atomic

        tmp = pathlib.Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
        try:
            meta = {
                "format": _FORMAT,
                "spykeflow_version": __version__,
                "backend": self.backend_.name or self.backend,
                "backend_config": self.backend_.get_config(),
                "params": self._json_params(),
                "input_shape": list(self.input_shape_),
                "history": self.history_,
                "kind": "keras" if self.model_ is not None else "estimator",
            }
            if self.classes_.dtype == object:
                raise TypeError("classes_ of dtype object cannot be saved without pickle; "
                                "use numeric or string labels.")
            arrays = {"classes_": self.classes_}
            if self.model_ is None:
                arrays.update({f"state__{k}": v for k, v in self.backend_.get_state().items()})
            else:
                self.model_.save(tmp / "model.keras")
            save_npz_atomic(tmp / "arrays.npz", **arrays)
            write_json_atomic(tmp / "metadata.json", meta)
            mask = os.umask(0)
            os.umask(mask)
            os.chmod(tmp, 0o777 & ~mask)  # mkdtemp makes 0700; give the usual folder mode
            if path.exists():
                old = path.with_name(f".{path.name}.old")
                shutil.rmtree(old, ignore_errors=True)
                os.replace(path, old)
                os.replace(tmp, path)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(tmp, path)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return path

    @classmethod
    def load(cls, path):
        """Load a classifier written by :meth:`save` (Keras ``safe_mode=True``)."""
        from .io import load_npz, read_json

        path = pathlib.Path(path)
        meta_path = path / "metadata.json"
        if not meta_path.is_file():
            raise FileNotFoundError(
                f"No saved Classifier at {path}: {meta_path.name} is missing. "
                "Pass the folder written by Classifier.save(path)."
            )
        meta = read_json(meta_path)
        if meta.get("format") != _FORMAT:
            raise ValueError(f"Unknown format {meta.get('format')!r} in {meta_path}; "
                             f"expected {_FORMAT!r}.")
        params = dict(meta["params"])
        params["backend_params"] = dict(meta["backend_config"])
        clf = cls(**params)
        backend = _backends.get(meta["backend"], **meta["backend_config"])
        arrays = load_npz(path / "arrays.npz")
        clf.classes_ = arrays["classes_"]
        clf.input_shape_ = tuple(meta["input_shape"])
        if len(clf.input_shape_) >= 1:
            clf.n_features_in_ = int(clf.input_shape_[0])
        clf.history_ = meta.get("history", {})
        if meta["kind"] == "keras":
            import keras

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                clf.model_ = keras.saving.load_model(
                    path / "model.keras", safe_mode=True, compile=False,
                    custom_objects=backend.custom_objects() or None)
        else:
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
