"""Readouts of the STDP image pipelines: the published binary readout and the linear SVM
whose C is chosen by cross-validation (facebike)."""

from __future__ import annotations

from typing import Any

import numpy as np

import spykeflow

#: Training of the binary / relu readouts unless options say otherwise: the settings that
#: reproduce the published MNIST accuracy in minutes (experiments/readout_mnist.py). The model
#: itself is the published one; ``--backend reference`` uses the original's SGD.
FAST_READOUT = {"epochs": 12, "batch_size": 256, "learning_rate": 1e-3}
STEP_PARAMS = {"step_size": 4, "gamma": 0.3}


def make_classifier(config: Any, progress: bool):
    """The readout of an STDP run (``backend`` "reference" = the original notebooks')."""
    backend = config.backend
    emnist = config.dataset.startswith("emnist")
    if backend == "reference":
        overrides = {k: getattr(config, k) for k in ("epochs", "learning_rate")
                     if getattr(config, k)}
        if config.hidden:
            overrides["backend_params"] = {"hidden": _hidden(config)}
        name = f"{'emnist' if emnist else 'mnist'}_{config.surrogate or 'sg1'}"
        return spykeflow.Classifier.preset(name, seed=config.seed, progress=progress, **overrides)
    params: dict[str, Any] = {}
    if backend in ("binary", "relu"):
        params["hidden"] = _hidden(config) or (1500 if emnist else 1000)
        if backend == "binary" and config.surrogate:
            params["surrogate"] = config.surrogate
    kwargs = {k: getattr(config, k) for k in ("epochs", "batch_size", "learning_rate")
              if getattr(config, k)}
    schedule = config.lr_schedule
    if backend in ("binary", "relu"):
        kwargs = {**FAST_READOUT, **kwargs}
        schedule = schedule or "step"
    if schedule and schedule != "none":
        kwargs["lr_schedule"] = schedule
        if schedule == "step":
            kwargs["lr_schedule_params"] = dict(config.lr_schedule_params or STEP_PARAMS)
    return spykeflow.Classifier(backend, backend_params=params or None, seed=config.seed,
                                progress=progress, **kwargs)


def _hidden(config: Any):
    """``hidden`` as given (an int, or a list from ``--hidden``), None when not given."""
    return list(config.hidden) if isinstance(config.hidden, tuple) else config.hidden


def svm_by_cross_validation(config: Any, features: np.ndarray, labels: np.ndarray,
                            progress: bool = False):
    """Linear SVM whose C is chosen by stratified k-fold cross-validation on the training split.

    ``config.svm_c_grid`` lists the candidate C values and ``config.svm_cv`` the number of
    seeded folds; with ``config.standardise`` every feature is standardised by the mean and
    standard deviation of the training part (inside each fold, then on the whole training split
    for the final model). The test split is never looked at. Ties go to the smaller C.

    Returns ``(spykeflow Classifier fitted on the standardised training split,
    {"mean", "scale"}, cross-validation summary)``.
    """
    from sklearn.model_selection import GridSearchCV, StratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import LinearSVC

    x = np.asarray(features, np.float64)
    y = np.asarray(labels)
    grid = sorted(float(c) for c in config.svm_c_grid)  # GridSearchCV breaks ties by order
    standardise = bool(config.standardise)
    max_iter = int(config.svm_max_iter or 20000)
    seed = int(config.seed)
    model = make_pipeline(StandardScaler(with_mean=standardise, with_std=standardise),
                          LinearSVC(max_iter=max_iter, random_state=seed))
    folds = StratifiedKFold(int(config.svm_cv), shuffle=True, random_state=seed)
    search = GridSearchCV(model, {"linearsvc__C": grid}, cv=folds, refit=False)
    search.fit(x, y)
    best = float(search.best_params_["linearsvc__C"])
    scaler = StandardScaler(with_mean=standardise, with_std=standardise).fit(x)
    mean = scaler.mean_ if standardise else np.zeros(x.shape[1])
    scale = scaler.scale_ if standardise else np.ones(x.shape[1])
    clf = spykeflow.Classifier("svm", backend_params={"C": best, "max_iter": max_iter},
                               seed=seed, progress=progress)
    clf.fit(scaler.transform(x), y)
    means = search.cv_results_["mean_test_score"]
    summary = {"folds": int(config.svm_cv), "standardise": standardise, "best_C": best,
               "mean_accuracy": {str(c): float(m) for c, m in zip(grid, means)}}
    return clf, {"mean": mean, "scale": scale}, summary
