"""The ``fsdd`` pipeline: Free Spoken Digits -> log-Mel features -> s2net (Zimmer et al.,
scaled down for a CPU) trained by ``spykeflow.Classifier("s2net")``.

The settings (``FsddConfig``; docs/design_choices.md, FSDD setting): 40 Mel bands 20-4000 Hz
with deltas, 30 ms windows, 10 ms hop (one time step), silence trimmed at 40 dB, centred in 64
frames; three s2net layers of 32 channels, AdamW (lr 2e-3, weight decay 1e-5) with one warm-up
epoch and a per-batch cosine decay, batch 32, 15 epochs, spike regulariser 0.1, gradient clip
5. ``experiments/s2net_fsdd.py`` runs seeds, the speaker split and the regularisation sweep
with the same code.
"""

from __future__ import annotations

import dataclasses
import pathlib
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import schedules
from config import Common
from evaluate import HISTORY_KEYS, fit_evaluate
from run import Run, jsonable

import spykeflow
from spykeflow import io


@dataclasses.dataclass(frozen=True)
class FsddConfig(Common):
    epochs: int = 15
    batch_size: int = 32
    learning_rate: float = 2e-3
    weight_decay: float = 1e-5
    warmup_epochs: int = 1
    #: s2net filters per layer (``--hidden``; the paper's: 64 64 64)
    hidden: tuple[int, ...] = (32, 32, 32)
    lateral: bool = True
    recurrent: bool = False
    beta: float = 0.7
    spike_regularization: float = 0.1
    clipvalue: float = 5.0
    #: frames per recording (10 ms each) and the silence trimming (None: off)
    length: int = 64
    trim_db: float | None = 40.0
    #: "standard" (recordings 0-4 of every speaker and digit are the test split) or
    #: "speaker" (``test_speaker`` held out)
    split: str = "standard"
    test_speaker: str = "theo"

    QUICK: ClassVar = {"epochs": 1}


def features(run: Run, config: FsddConfig, cache_dir: pathlib.Path) -> tuple:
    """Log-Mel features ``(N, length, 40, 3)``, digits, speakers and recording indices, in
    the loader's order; the features are cached in ``cache_dir``."""
    from spykeflow import datasets

    waves, digits = run.load("fsdd", "all", config.data_root)
    meta = datasets.fsdd_metadata("all", root=config.data_root)
    rates = {int(r) for r in meta["rate"]}
    if len(rates) != 1:
        raise ValueError(f"Expected one sample rate in FSDD. Received: {sorted(rates)}.")
    keys = np.array([f"{d}_{s}_{i}" for d, s, i in zip(digits, meta["speaker"], meta["index"])])
    trim = "" if config.trim_db is None else f"_trim{config.trim_db:g}"
    cache = pathlib.Path(cache_dir) / f"fsdd_logmel_T{config.length}{trim}.npz"
    x = None
    if cache.exists():
        stored = io.load_npz(cache)
        if stored["keys"].tolist() == keys.tolist():
            x = stored["x"]
    if x is None:
        from spykeflow.functional.audio import features_array

        x = features_array(list(waves), length=int(config.length), sample_rate=rates.pop(),
                           align="center", trim_db=config.trim_db)
        io.save_npz_atomic(cache, x=x, keys=keys)
    return x, np.asarray(digits), np.asarray(meta["speaker"]), np.asarray(meta["index"])


def split(config: FsddConfig, x, digits, speakers, indices) -> tuple:
    """``(x_train, y_train, x_test, y_test)`` of ``config.split``."""
    if config.split == "standard":
        test = indices < 5
    elif config.split == "speaker":
        if config.test_speaker not in set(speakers):
            raise ValueError(f"Unknown test_speaker {config.test_speaker!r}. Expected one of "
                             f"{sorted(set(speakers))}.")
        test = speakers == config.test_speaker
    else:
        raise ValueError(f"Expected split 'standard' or 'speaker'. Received: {config.split!r}.")
    return x[~test], digits[~test], x[test], digits[test]


def make_classifier(config: FsddConfig, progress: bool, callbacks: Sequence = ()) -> Any:
    params = dict(filters=[int(c) for c in np.atleast_1d(config.hidden)], lateral=config.lateral,
                  recurrent=config.recurrent, beta=config.beta,
                  spike_regularization=config.spike_regularization,
                  gradient_clip=config.clipvalue)
    optimizer = {"weight_decay": config.weight_decay}
    if config.clipvalue:
        optimizer["clipvalue"] = config.clipvalue
    return spykeflow.Classifier(
        "s2net", backend_params=params, optimizer="adamw", learning_rate=config.learning_rate,
        optimizer_params=optimizer, epochs=config.epochs, batch_size=config.batch_size,
        validation_split=0.0, restore_best=False, seed=config.seed, progress=progress,
        callbacks=[schedules.cosine_decay(config.warmup_epochs), *callbacks])


def spiking_activity(clf: Any, x: np.ndarray) -> dict:
    """Firing rates in Hz per layer (10 ms steps), their neuron-weighted mean, the neurons per
    time step of each layer and the trained membrane decays."""
    backend, model = clf.backend_, clf.model_
    rates = backend.firing_rates(model, x, batch_size=64, dt=0.01)
    layers = backend.spiking_layers(model)
    sizes = {layer.name: int(np.prod(layer.output.shape[2:])) for layer in layers}
    mean = sum(rates[k] * sizes[k] for k in rates) / sum(sizes.values())
    return {"firing_rate_hz": rates, "mean_firing_rate_hz": float(mean),
            "neurons_per_layer": sizes,
            "betas": {layer.name: float(np.asarray(layer.beta)) for layer in layers}}


def train_and_test(run: Run, config: FsddConfig, cache_dir: pathlib.Path,
                   callbacks: Sequence = ()) -> dict:
    """Features, s2net training (stage ``train``) and its evaluation (stage ``evaluate``)."""
    x, digits, speakers, indices = features(run, config, cache_dir)
    data = split(config, x, digits, speakers, indices)
    clf = make_classifier(config, run.progress, callbacks)

    def activity(model):
        out = spiking_activity(model, data[2])
        if not config.no_plots:
            raster(model, data[2][:1], run.path("raster.png"))
            out["figures"] = ["raster.png"]
        return out

    result, trained = fit_evaluate(run, config, clf, data, "fsdd", extra=activity)
    history = trained.get("history", {})
    epoch_seconds = history.get("epoch_time", [])
    return jsonable({
        "pipeline": "fsdd", "dataset": "fsdd", "backend": "s2net", "split": config.split,
        **result,
        "train_accuracy": history["accuracy"][-1] if history.get("accuracy") else None,
        "epoch_seconds": epoch_seconds,
        "median_epoch_seconds": float(np.median(epoch_seconds)) if epoch_seconds else None,
        "n_train": int(len(data[1])), "n_test": int(len(data[3])),
        "readout": {"history": {k: v for k, v in history.items() if k in HISTORY_KEYS}},
    })


def body(run: Run, config: FsddConfig) -> dict:
    return train_and_test(run, config, run.path("cache"))


def raster(clf: Any, x: np.ndarray, path: pathlib.Path) -> None:
    """Input features and the spike rasters of every spiking layer for one sample."""
    import matplotlib.pyplot as plt

    backend, model = clf.backend_, clf.model_
    layers = backend.spiking_layers(model)
    spikes = backend.spike_model(model)(x, training=False)
    spikes = [spikes] if len(layers) == 1 else spikes
    fig, axes = plt.subplots(len(layers) + 1, 1, figsize=(8, 2.2 * (len(layers) + 1)),
                             sharex=True)
    axes[0].imshow(x[0, :, :, 0].T, aspect="auto", origin="lower", cmap="magma")
    axes[0].set_ylabel("Mel band")
    axes[0].set_title("log-Mel input (standardised)")
    for ax, layer, s in zip(axes[1:], layers, spikes):
        s = np.asarray(s)[0]  # (T, L, C)
        t, pos, ch = np.nonzero(s)
        ax.scatter(t, ch * s.shape[1] + pos, s=1, c="k", marker="|")
        ax.set_ylabel("channel x position")
        ax.set_title(f"{layer.name}: {s.mean() / 0.01:.1f} Hz")
        ax.set_ylim(0, s.shape[1] * s.shape[2])
    axes[-1].set_xlabel("time step (10 ms)")
    fig.tight_layout()
    with io.atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)
