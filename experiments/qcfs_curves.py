"""Accuracy-vs-T curves of QCFS-converted SNNs against their ANNs and the classic conversion.

For each L in --L: train the VGG-style QCFS CNN of ``spykeflow.backends.qcfs`` (Bu et al. 2022),
convert it to IF neurons and record the SNN test accuracy at every T in --T from one simulation.
Baseline: the same CNN with ReLUs, converted by max-activation (Diehl et al. 2015) and
99.9th-percentile (Rueckauer et al. 2017) normalisation.

Images (fashion, mnist): the pixel intensities in [0, 1] are a constant input current.
Events (nmnist): the ANN is trained on ON/OFF event counts accumulated over the first
``--duration-ms`` ms and divided by a global scale s (99th percentile of non-zero training
counts); the SNN receives the ``--bin-ms`` bins one per step, each multiplied by n_bins / s so
that their mean over the window equals the ANN input (the window repeats if T > n_bins).

Writes ``<out>/<dataset>.json`` and ``<out>/<dataset>.png``. Example::

    python experiments/qcfs_curves.py --dataset fashion --L 4 8 16 --epochs 4 --train-size 20000
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import pathlib
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

log = logging.getLogger("qcfs_curves")


def load(dataset, train_size, test_size, seed, duration_ms, bin_ms):
    import spykeflow.datasets as ds
    from spykeflow.functional.events import bin_events

    rng = np.random.default_rng(seed)
    if dataset in ("fashion", "mnist"):
        xtr, ytr = ds.load(dataset, split="train")
        xte, yte = ds.load(dataset, split="test")
        itr = np.sort(rng.choice(len(xtr), min(train_size, len(xtr)), replace=False))
        ite = np.sort(rng.choice(len(xte), min(test_size, len(xte)), replace=False))
        f = lambda a: (a.astype("float32") / 255.0)[..., None]  # noqa: E731
        return dict(x_train=f(xtr[itr]), y_train=ytr[itr], x_test=f(xte[ite]), y_test=yte[ite],
                    seq_test=None, scale=1.0, info={})
    # N-MNIST subset: 1000 train / 100 test recordings
    etr, ytr = ds.load("nmnist", split="train")
    ete, yte = ds.load("nmnist", split="test")
    dur = int(duration_ms * 1000)
    n_bins = int(round(duration_ms / bin_ms))
    # ON/OFF counts in [0, dur) us: accumulated (ANN) and in n_bins bins (SNN, one per step)
    acc_tr = bin_events(etr, (34, 34), 1, window_us=dur, t_start=0, mode="count")[:, 0]
    acc_tr = acc_tr.astype("float32")
    seq_te = bin_events(ete, (34, 34), n_bins, window_us=dur, t_start=0, mode="count")
    seq_te = np.minimum(seq_te, 255).astype(np.uint8)
    nz = acc_tr[acc_tr > 0]
    s = float(np.percentile(nz, 99))
    x_te = seq_te.sum(axis=1, dtype=np.float32) / s
    info = dict(count_scale=s, n_bins=int(n_bins), bin_ms=bin_ms, duration_ms=duration_ms,
                train_events_mean=float(np.mean([len(e) for e in etr])))
    return dict(x_train=acc_tr / s, y_train=ytr, x_test=x_te, y_test=yte, seq_test=seq_te,
                scale=n_bins / s, info=info)


def train(backend, data, epochs, batch_size, seed, lr):
    import keras

    keras.utils.set_random_seed(seed)
    model = backend.build_model(data["x_train"].shape[1:], 10, seed)
    steps = epochs * int(np.ceil(len(data["x_train"]) / batch_size))
    sched = keras.optimizers.schedules.CosineDecay(lr, steps)
    model.compile(keras.optimizers.Adam(sched), backend.loss(), metrics=["accuracy"])
    t0 = time.time()
    hist = model.fit(data["x_train"], data["y_train"], batch_size=batch_size, epochs=epochs,
                     verbose=2, shuffle=True)
    return model, time.time() - t0, [float(a) for a in hist.history["accuracy"]]


def run(args):
    from spykeflow.backends.qcfs import QCFSBackend
    from spykeflow.io import write_json_atomic

    data = load(args.dataset, args.train_size, args.test_size, args.seed, args.duration_ms,
                args.bin_ms)
    y_test = data["y_test"]
    snn_x = data["seq_test"] if data["seq_test"] is not None else data["x_test"]
    t_list = sorted(set(args.T))
    results = dict(dataset=args.dataset, args=vars(args), data=data["info"],
                   n_train=int(len(data["x_train"])), n_test=int(len(y_test)), T=t_list, runs=[])

    configs = [("qcfs", L) for L in args.L] + ([("relu", None)] if args.relu else [])
    for act, L in configs:
        kw = dict(filters=tuple(args.widths), hidden=args.dense, activation=act,
                  threshold=args.init_threshold, dropout=args.dropout)
        if L is not None:
            kw["levels"] = L
        backend = QCFSBackend(**kw)
        log.info("training %s L=%s", act, L)
        model, t_train, train_acc = train(backend, data, args.epochs, args.batch_size, args.seed,
                                          args.lr)
        ann = backend.predict_logits(model, data["x_test"], 256)
        ann_acc = float((ann.argmax(1) == y_test).mean())
        variants = [("qcfs", None)] if act == "qcfs" else [("relu-max", 100.0),
                                                           ("relu-p99.9", 99.9)]
        for name, pct in variants:
            if pct is not None:
                backend.params["percentile"] = pct
                backend.convert(model, data["x_train"], seed=args.seed)
            t0 = time.time()
            curve = backend.predict_curve(model, snn_x, max(t_list), t_list, batch_size=100,
                                          input_scale=data["scale"], progress=True)
            t_sim = time.time() - t0
            acc = [float((c.argmax(1) == y_test).mean()) for c in curve]
            # agreement of the SNN output with the ANN logits
            mae = [float(np.mean(np.abs(c - ann))) for c in curve]
            snn = backend.spiking_model(model)
            run_res = dict(method=name, L=L, ann_acc=ann_acc, snn_acc=dict(zip(map(str, t_list), acc)),
                           logit_mae=dict(zip(map(str, t_list), mae)), train_s=round(t_train, 1),
                           sim_s=round(t_sim, 1), train_acc=train_acc, thresholds=snn.thresholds)
            if data["seq_test"] is not None:
                # control: the accumulated (ANN) frame as a constant input current, which
                # separates the conversion error from the effect of event timing
                static = backend.predict_curve(model, data["x_test"], max(t_list), t_list,
                                               batch_size=100)
                run_res["snn_acc_static_frame"] = dict(zip(
                    map(str, t_list), [float((c.argmax(1) == y_test).mean()) for c in static]))
            results["runs"].append(run_res)
            log.info("%s L=%s ANN %.4f SNN %s (train %.0fs, sim %.0fs)", name, L, ann_acc,
                     [round(a, 4) for a in acc], t_train, t_sim)
        out = pathlib.Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        write_json_atomic(out / f"{args.dataset}.json", results)
    plot(results, pathlib.Path(args.out) / f"{args.dataset}.png")
    return results


def plot(results, path):
    """Two panels: accuracy vs T (0-100 %) and a zoom on the region near the ANN accuracies."""
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
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=110)
    os.replace(tmp, path)
    plt.close(fig)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", choices=["fashion", "mnist", "nmnist"], required=True)
    p.add_argument("--L", type=int, nargs="+", default=[4, 8, 16])
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--train-size", type=int, default=20000)
    p.add_argument("--test-size", type=int, default=1000)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--widths", type=int, nargs="+", default=[16, 32])
    p.add_argument("--dense", type=int, default=128)
    p.add_argument("--dropout", type=float, default=0.0)
    p.add_argument("--init-threshold", type=float, default=2.0)
    p.add_argument("--T", type=int, nargs="+", default=[1, 2, 4, 8, 16, 32, 64, 128])
    p.add_argument("--no-relu", dest="relu", action="store_false", help="skip the classic baseline")
    p.add_argument("--duration-ms", type=float, default=300.0)
    p.add_argument("--bin-ms", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="/work/outputs_shared/qcfs")
    p.add_argument("--replot", action="store_true", help="only redraw the PNG from the JSON")
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if args.replot:
        out = pathlib.Path(args.out)
        plot(json.loads((out / f"{args.dataset}.json").read_text()), out / f"{args.dataset}.png")
        return
    results = run(args)
    print(json.dumps({r["method"] + (f"-L{r['L']}" if r["L"] else ""): {
        "ann": r["ann_acc"], "snn": r["snn_acc"]} for r in results["runs"]}, indent=1))


if __name__ == "__main__":
    main()
