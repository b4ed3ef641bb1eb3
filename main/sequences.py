"""The ``sequences`` pipeline: one cell of Samadzadeh et al.'s Table 1 -- the synthetic MNIST
sequence ``seq`` classified by ``model`` with the Table-1 CPU protocol (:mod:`protocols`)."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import numpy as np
import protocols
from config import Common
from evaluate import fit_evaluate
from run import Run

import spykeflow


@dataclasses.dataclass(frozen=True)
class SequencesConfig(Common):
    #: Table 1 model (convsnn, resnet, cnn, cnn_lstm, convlstm, c3d) or its backend name
    model: str = "convsnn"
    #: synthetic sequence type 1-5
    seq: int = 1
    time_steps: int = 10
    train_limit: int = protocols.CPU_PROTOCOL["n_train"]
    test_limit: int = protocols.CPU_PROTOCOL["n_test"]
    #: None: the protocol's (epochs 8; learning rate and batch size per model)
    epochs: int | None = None
    batch_size: int | None = None
    learning_rate: float | None = None

    QUICK: ClassVar = {"train_limit": 500, "test_limit": 200, "epochs": 1}


def load_clips(seq: int, split: str, n: int, seed: int, data_root: str | None = None,
               time_steps: int = 10, cache=None) -> tuple[np.ndarray, np.ndarray]:
    """Clips of sequence ``seq`` as float32 in [0, 1] ``(N, T, 28, 28)`` and int labels
    (``cache``: an ``.npz`` file to read them from, or to write them to)."""
    from spykeflow import datasets

    x, y = datasets.load("sequences", split=split, root=data_root, seq=int(seq), n=int(n),
                         seed=int(seed), time_steps=int(time_steps), cache=cache)
    return x.astype(np.float32) / 255.0, y


def body(run: Run, config: SequencesConfig) -> dict:
    data: list[np.ndarray] = []
    for split, n in (("train", config.train_limit), ("test", config.test_limit)):
        data += load_clips(config.seq, split, n, config.seed, config.data_root,
                           config.time_steps)
    # Table 1 settings of the model (widths, learning rate, schedule, STS switch);
    # --epochs / --batch-size / --learning-rate override them
    kwargs = protocols.classifier_kwargs(config.model, epochs=config.epochs)
    kwargs.update({k: getattr(config, k) for k in ("batch_size", "learning_rate")
                   if getattr(config, k)})
    clf = spykeflow.Classifier(kwargs.pop("backend"), seed=config.seed, progress=run.progress,
                               **kwargs)
    result, trained = fit_evaluate(run, config, clf, tuple(data), "sequences")
    return {"pipeline": "sequences", "model": config.model, "seq": config.seq, **result,
            "n_train": int(len(data[1])), "n_test": int(len(data[3])),
            "readout": {"history": trained.get("history")}}
