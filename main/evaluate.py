"""Train, save, test and plot one :class:`spykeflow.Classifier` (the supervised pipelines:
nmnist ``--backend convsnn``, soli, fsdd, sequences)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from run import Run, class_names, jsonable

import spykeflow

HISTORY_KEYS = ("loss", "accuracy", "val_loss", "val_accuracy", "epoch_time")


def fit_evaluate(run: Run, config: Any, clf: Any, data: tuple, dataset: str,
                 extra: Callable[[Any], dict] | None = None) -> tuple[dict, dict]:
    """Train ``clf`` (stage ``train``), save it, test it and plot (stage ``evaluate``).

    ``data`` is ``(x_train, y_train, x_test, y_test)``; ``extra(model)`` adds entries to the
    evaluation. Returns the evaluation and the training stage's result (``history``).
    """
    x_train, y_train, x_test, y_test = data
    clf_dir = run.path("classifier")

    def train():
        clf.fit(x_train, y_train)
        clf.set_params(callbacks=None)  # training aids (schedules, monitors) are not saved
        clf.save(clf_dir)
        hist = {k: v for k, v in (getattr(clf, "history_", None) or {}).items()
                if k in HISTORY_KEYS}
        return jsonable({"history": hist})

    trained = run.stage("train", train)

    def evaluate():
        model = spykeflow.Classifier.load(clf_dir)
        ev = model.evaluate(x_test, y_test)
        names = class_names(dataset, ev["classes"])
        out = {
            "test_accuracy": float(ev["accuracy"]),
            "per_class_accuracy": {n: float(a) for n, a in zip(names, ev["per_class_accuracy"])},
            "confusion_matrix": ev["confusion_matrix"],
        }
        if extra:
            out.update(extra(model))
        out["figures"] = list(out.get("figures", []))
        if not config.no_plots:
            out["figures"] += plots(run, y_test, model.predict(x_test), names,
                                    trained.get("history"),
                                    raster=x_test[:1] if x_test.ndim == 5 else None)
        return jsonable(out)

    result = run.stage("evaluate", evaluate)
    return {k: v for k, v in result.items() if k != "seconds"}, trained


def plots(run: Run, y_true: np.ndarray, y_pred: np.ndarray, names: list[str],
          history: dict | None = None, raster: np.ndarray | None = None) -> list[str]:
    """Confusion matrix, per-class accuracy, training curves and an input raster."""
    from spykeflow import plotting

    figures = {
        "confusion_matrix.png": plotting.plot_confusion_matrix(y_true, y_pred, class_names=names),
        "per_class_accuracy.png": plotting.plot_per_class_accuracy(y_true, y_pred,
                                                                   class_names=names),
    }
    if history and history.get("loss"):
        figures["training_curves.png"] = plotting.plot_training_curves(history)
    if raster is not None:
        figures["raster_input.png"] = plotting.plot_spike_raster(raster, index=0,
                                                                 layer_name="input")
    for name, fig in figures.items():
        run.save_figure(fig, name)
    return list(figures)
