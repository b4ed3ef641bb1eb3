"""The ``qcfs`` pipeline: accuracy-vs-T curves of QCFS-converted SNNs (Bu et al. 2022).

For each L in ``levels``: train the VGG-style CNN of ``spykeflow.Classifier("qcfs")`` with
QCFS activations, convert it to IF neurons and record the SNN test accuracy at every T in
``timesteps`` from one simulation. Baseline (``relu``): the same CNN with ReLUs, converted by
max-activation (Diehl et al. 2015) and 99.9th-percentile (Rueckauer et al. 2017)
normalisation. Training: Adam with a per-batch cosine decay, no validation split.

Images (fashion, mnist): the pixel intensities in [0, 1] are a constant input current.
Events (nmnist): the ANN is trained on ON/OFF event counts accumulated over the first
``duration_ms`` and divided by a global scale s (99th percentile of the non-zero training
counts); the SNN receives the ``bin_ms`` bins one per step, each multiplied by n_bins / s so
that their mean over the window equals the ANN input (the window repeats if T > n_bins).
``experiments/qcfs_curves.py`` is the command line of the same code.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from typing import Any, ClassVar

import nir_export
import numpy as np
import schedules
from config import Common
from run import Run, jsonable

import spykeflow
from spykeflow import io

log = logging.getLogger("spykeflow.main")


@dataclasses.dataclass(frozen=True)
class QcfsConfig(Common):
    dataset: str = "fashion"
    #: QCFS quantisation steps L, one network each
    levels: tuple[int, ...] = (4, 8, 16)
    #: also the classic ReLU conversion (max and 99.9th-percentile normalisation)
    relu: bool = True
    timesteps: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64, 128)
    epochs: int = 4
    train_limit: int = 20000
    test_limit: int = 1000
    batch_size: int = 64
    learning_rate: float = 2e-3
    widths: tuple[int, ...] = (16, 32)
    dense: int = 128
    dropout: float = 0.0
    init_threshold: float = 2.0
    #: nmnist: the accumulation window of the ANN input and the SNN's bin per step
    duration_ms: float = 300.0
    bin_ms: float = 1.0

    QUICK: ClassVar = {"epochs": 1, "train_limit": 2000, "test_limit": 200, "levels": (8,)}


def load(run: Run, config: QcfsConfig) -> dict:
    """Training and test inputs of the ANN, the SNN's test input, its scale and data notes."""
    rng = np.random.default_rng(config.seed)
    if config.dataset in ("fashion", "mnist"):
        xtr, ytr = run.load(config.dataset, "train", config.data_root)
        xte, yte = run.load(config.dataset, "test", config.data_root)
        itr = np.sort(rng.choice(len(xtr), min(config.train_limit, len(xtr)), replace=False))
        ite = np.sort(rng.choice(len(xte), min(config.test_limit, len(xte)), replace=False))

        def image(a):
            return (a.astype("float32") / 255.0)[..., None]

        return dict(x_train=image(xtr[itr]), y_train=ytr[itr], x_test=image(xte[ite]),
                    y_test=yte[ite], seq_test=None, scale=1.0, info={})
    etr, ytr = run.load("nmnist", "train", config.data_root)
    ete, yte = run.load("nmnist", "test", config.data_root)
    window = int(config.duration_ms * 1000)
    n_bins = int(round(config.duration_ms / config.bin_ms))
    # ON/OFF counts in [0, window) us: accumulated (ANN) and in n_bins bins (SNN, one per step)
    counts = spykeflow.EventEncoder(time_steps=1, window_us=window, t_start=0, mode="count")
    acc_tr = counts.transform(etr)[:, 0].astype("float32")
    bins = spykeflow.EventEncoder(time_steps=n_bins, window_us=window, t_start=0, mode="count")
    seq_te = np.minimum(bins.transform(ete), 255).astype(np.uint8)
    s = float(np.percentile(acc_tr[acc_tr > 0], 99))
    info = dict(count_scale=s, n_bins=n_bins, bin_ms=config.bin_ms,
                duration_ms=config.duration_ms,
                train_events_mean=float(np.mean([len(e) for e in etr])))
    return dict(x_train=acc_tr / s, y_train=ytr, x_test=seq_te.sum(axis=1, dtype=np.float32) / s,
                y_test=yte, seq_test=seq_te, scale=n_bins / s, info=info)


def make_classifier(config: QcfsConfig, activation: str, levels: int | None,
                    progress: bool) -> Any:
    params = dict(filters=list(config.widths), hidden=config.dense, activation=activation,
                  threshold=config.init_threshold, dropout=config.dropout)
    if levels is not None:
        params["levels"] = int(levels)
    return spykeflow.Classifier("qcfs", backend_params=params, epochs=config.epochs,
                                batch_size=config.batch_size, learning_rate=config.learning_rate,
                                validation_split=0.0, restore_best=False, seed=config.seed,
                                progress=progress, callbacks=[schedules.cosine_decay()])


def _curve(clf: Any, x: np.ndarray, t_list: list, input_scale: float = 1.0,
           progress: bool = False) -> list:
    """The converted SNN's mean outputs ``(N, K)`` at every T of ``t_list``, from one
    simulation of ``max(t_list)`` steps (the fitted qcfs backend's ``predict_curve``)."""
    return list(clf.backend_.predict_curve(clf.model_, x, max(t_list), t_list, batch_size=100,
                                           input_scale=input_scale, progress=progress))


def curves(run: Run, config: QcfsConfig) -> dict:
    """Train every network, convert it and record its accuracy-vs-T curve(s)."""
    data = load(run, config)
    y_test = data["y_test"]
    snn_x = data["seq_test"] if data["seq_test"] is not None else data["x_test"]
    t_list = sorted(set(config.timesteps))
    results = dict(dataset=config.dataset, config=config.to_json(), data=data["info"],
                   n_train=int(len(data["x_train"])), n_test=int(len(y_test)), T=t_list, runs=[])

    def accuracy(outputs):
        return [float((o.argmax(1) == y_test).mean()) for o in outputs]

    networks = [("qcfs", L) for L in config.levels] + ([("relu", None)] if config.relu else [])
    for activation, levels in networks:
        log.info("training %s L=%s", activation, levels)
        clf = make_classifier(config, activation, levels, run.progress)
        start = time.perf_counter()
        clf.fit(data["x_train"], data["y_train"])
        train_s = time.perf_counter() - start
        ann = clf.decision_scores(data["x_test"])
        ann_acc = float((ann.argmax(1) == y_test).mean())
        variants = ([("qcfs", None)] if activation == "qcfs"
                    else [("relu-max", 100.0), ("relu-p99.9", 99.9)])
        for name, percentile in variants:
            if percentile is not None:
                clf.backend_.convert(clf.model_, data["x_train"], seed=config.seed,
                                     percentile=percentile)
            start = time.perf_counter()
            curve = _curve(clf, snn_x, t_list, input_scale=data["scale"],
                           progress=run.progress)
            sim_s = time.perf_counter() - start
            entry = dict(method=name, L=levels, ann_acc=ann_acc,
                         snn_acc=dict(zip(map(str, t_list), accuracy(curve))),
                         logit_mae=dict(zip(map(str, t_list),
                                            [float(np.mean(np.abs(c - ann))) for c in curve])),
                         train_s=round(train_s, 1), sim_s=round(sim_s, 1),
                         train_acc=clf.history_["accuracy"],
                         thresholds=clf.backend_.spiking_model(clf.model_).thresholds)
            if config.export_nir and activation == "qcfs":
                path = nir_export.level_path(config.export_nir, levels)
                spykeflow.nir.export(clf.backend_.spiking_model(clf.model_), path)
                entry["nir_export"] = str(path)
            if data["seq_test"] is not None:
                # control: the accumulated (ANN) frame as a constant input current, which
                # separates the conversion error from the effect of event timing
                static = _curve(clf, data["x_test"], t_list, progress=run.progress)
                entry["snn_acc_static_frame"] = dict(zip(map(str, t_list), accuracy(static)))
            results["runs"].append(jsonable(entry))
            log.info("%s L=%s ANN %.4f SNN %s", name, levels, ann_acc,
                     [round(a, 4) for a in entry["snn_acc"].values()])
        io.write_json_atomic(run.path(f"{config.dataset}.json"), results)  # partial results
    return results


def body(run: Run, config: QcfsConfig) -> dict:
    def stage():
        result = curves(run, config)
        if not config.no_plots:
            run.save_figure(plot(result), f"{config.dataset}.png")
        return result

    result = run.stage("curves", stage)
    # the headline number is the QCFS SNN at the largest T (the ReLU runs are baselines)
    t_max = str(max(result["T"]))
    qcfs_runs = [r for r in result["runs"] if r["method"] == "qcfs"] or result["runs"]
    best = max(qcfs_runs, key=lambda r: r["snn_acc"][t_max])
    return {"pipeline": "qcfs", "dataset": config.dataset,
            "test_accuracy": best["snn_acc"][t_max], "test_accuracy_ann": best["ann_acc"],
            "best": {"method": best["method"], "L": best["L"]}, "curves": result["runs"],
            "T": result["T"], "n_train": result["n_train"], "n_test": result["n_test"]}


def plot(results: dict) -> Any:
    """Two panels: accuracy vs T (0-100 %) and a zoom on the region near the ANN accuracies."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(13, 4.8))
    t = results["T"]
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    ann_accs = []
    for ax in axes:
        for i, r in enumerate(results["runs"]):
            c = colors[i % len(colors)]
            label = (f"QCFS L={r['L']}" if r["method"] == "qcfs"
                     else f"ReLU, {r['method'][5:]} norm")
            events = "snn_acc_static_frame" in r
            acc = [100 * r["snn_acc"][str(k)] for k in t]
            ax.plot(t, acc, "o-", color=c, ms=4, label=f"SNN {label}" + (
                f" ({results['data']['bin_ms']:g} ms event bins)" if events else ""))
            if events:
                acc = [100 * r["snn_acc_static_frame"][str(k)] for k in t]
                ax.plot(t, acc, "s:", color=c, ms=3, label=f"SNN {label} (accumulated frame)")
            if r["method"] != "relu-p99.9":
                ann_accs.append(100 * r["ann_acc"])
                ax.axhline(100 * r["ann_acc"], color=c, ls="--", lw=1,
                           label=f"ANN {label.split(',')[0]} ({100 * r['ann_acc']:.1f}%)")
        ax.set_xscale("log", base=2)
        pow2 = [k for k in t if k & (k - 1) == 0]
        ax.set_xticks(pow2)
        ax.set_xticklabels([str(k) for k in pow2])
        ax.minorticks_off()
        ax.set_xlabel("time steps T")
        ax.set_ylabel("test accuracy (%)")
        ax.grid(alpha=0.3)
    axes[0].set_ylim(0, 100)
    axes[0].set_title(f"{results['dataset']}: ANN vs converted SNN "
                      f"(train {results['n_train']}, test {results['n_test']})", fontsize=10)
    axes[0].legend(fontsize=7, loc="lower right")
    lo = min(ann_accs) - 8
    axes[1].set_ylim(lo, max(ann_accs) + 2)
    axes[1].set_title(f"zoom near the ANN accuracies (>= {lo:.0f}%)", fontsize=10)
    fig.tight_layout()
    return fig
