"""The ``soli`` pipeline: Soli radar range-Doppler maps -> send-on-delta spike frames -> a
ConvSNN with quantisation-aware training (runs when the data are present)."""

from __future__ import annotations

import dataclasses
import logging
from typing import ClassVar

import numpy as np
from config import Common
from evaluate import fit_evaluate
from run import Run, jsonable

import spykeflow

log = logging.getLogger("spykeflow.main")


@dataclasses.dataclass(frozen=True)
class SoliConfig(Common):
    #: frames per recording after resampling
    time_steps: int = 20
    #: threshold of the delta encoding (on maps normalised to a maximum of 1)
    delta_threshold: float = 0.1
    #: weight bits of the quantisation-aware training (0: float)
    bits: int = 4
    epochs: int = 20
    batch_size: int = 16
    learning_rate: float = 2e-3

    QUICK: ClassVar = {"epochs": 2}


def _split(run: Run, config: SoliConfig) -> tuple:
    """The published split, or a seeded random 75/25 split of all files without one."""
    try:
        x_train, y_train = run.load("soli", "train", config.data_root)
        x_test, y_test = run.load("soli", "test", config.data_root)
        return x_train, y_train, x_test, y_test, "deep-soli file_half.json"
    except (ValueError, FileNotFoundError):
        # no published split file (the shared sample): split all files; a missing Soli folder
        # raises DatasetNotFoundError again here, which main.py reports
        x_all, y_all = run.load("soli", "all", config.data_root)
    order = np.random.default_rng(config.seed).permutation(len(x_all))
    n_test = max(1, len(order) // 4)
    test, train = order[:n_test], order[n_test:]
    return (x_all[train], y_all[train], x_all[test], y_all[test],
            f"seeded random 75/25 of all {len(x_all)} files (no split file)")


def body(run: Run, config: SoliConfig) -> dict:
    x_train, y_train, x_test, y_test, split = _split(run, config)
    from spykeflow.functional.radar import preprocess_soli  # imports TensorFlow

    frames = {k: preprocess_soli(list(x), length=config.time_steps, encoding="delta",
                                 threshold=config.delta_threshold).astype(np.float32)
              for k, x in (("train", x_train), ("test", x_test))}
    classes = np.unique(np.concatenate([y_train, y_test]))
    base = {"pipeline": "soli", "dataset": "soli", "split": split,
            "n_train": int(len(y_train)), "n_test": int(len(y_test)), "classes": classes,
            "input_spikes_per_sample": float(frames["test"].sum() / len(y_test))}
    if len(np.unique(y_train)) < 2:
        log.warning("soli: the data hold %d gesture class(es); nothing to classify "
                    "(the shared sample has gesture 0 only). Frames were built and checked.",
                    len(np.unique(y_train)))
        return jsonable({**base, "test_accuracy": None,
                         "note": "fewer than 2 classes in the data: no classifier trained"})
    clf = spykeflow.Classifier("convsnn", backend_params={"bits": config.bits or None,
                                                          "readout": "count"},
                               epochs=config.epochs, batch_size=config.batch_size,
                               learning_rate=config.learning_rate, validation_split=0.0,
                               seed=config.seed, progress=run.progress)
    result, _ = fit_evaluate(run, config, clf,
                             (frames["train"], y_train, frames["test"], y_test), "soli")
    return jsonable({**base, **result})
