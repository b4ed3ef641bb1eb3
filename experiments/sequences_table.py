#!/usr/bin/env python
"""Table 1 of Samadzadeh et al. on the synthetic MNIST sequences: models x sequences x seeds.

Every run trains one model on ``n_train`` clips of one sequence (built from MNIST train) and
evaluates it after every epoch on ``n_test`` clips (from MNIST test). Reported per run:

* ``acc_final`` -- test accuracy after the last epoch;
* ``acc_best`` -- the paper's protocol ("the maximum performance on the test set is recorded"):
  the best test accuracy over the epochs (for the STS models only epochs after the switch to
  spikes count);
* ``test_errors`` (20-class sequences) -- the final test error split into clips whose digit
  was right but direction wrong (``direction``) and clips whose digit was wrong (``digit``);
  ``confusion`` -- the final test confusion matrix (rows: true label, columns: predicted);
* ``params`` (trainable), ``macs`` (dense multiply-accumulates per clip), ``ops`` (MACs of ANN
  layers + synaptic operations of spiking layers weighted by the measured spike rates on the
  test clips; see :mod:`spykeflow.complexity`), ``train_s`` (wall time of ``fit``).

Outputs in ``--out`` (written atomically; finished runs in ``runs.jsonl`` are skipped, so an
interrupted table resumes): ``runs.jsonl``, ``runs.csv``, ``table.md`` and ``table.csv``
(mean +- std over seeds), ``accuracy_vs_ops.png`` (the paper's Figure 6 for every sequence:
best accuracy against operations per clip). One folder holds one configuration: a finished run
of the same cell with another learning rate or backend parameters stops the script instead of
being skipped or mixed into the table.

``main/main.py sequences --model ... --seq ...`` trains one cell with the same presets
(``main/protocols.py``) and the same clips (``main/sequences.py``).

The defaults are the CPU protocol of 1 Dec 2026
(``CPU_PROTOCOL`` of ``main/protocols.py``, docs/design_choices.md, STS
section): 10,000 / 2,000 clips, 8 epochs, learning rate x0.3 after epoch 5; the ConvSNN 48-48
with 5x5 kernels by plain BPTT at lr 2e-3, STS-ResNet at base width 8 by plain BPTT (surrogate
sigma 0.5), the ANN baselines at width 32 (ConvLSTM 8). The table of the README was made by (two
processes, one core each)::

    python experiments/sequences_table.py --models convsnn --seqs 2 4 3 5 1 --out OUT/snn
    python experiments/sequences_table.py --models convsnn --seqs 2 4 --seeds 1 2 --out OUT/snn2
    python experiments/sequences_table.py --models cnn c3d cnn_lstm --seqs 2 4 3 5 1 --out OUT/ann
    python experiments/sequences_table.py --models cnn c3d cnn_lstm --seqs 1 2 3 4 5 --seeds 1 \\
        --out OUT/ann_s1
    python experiments/sequences_table.py --models convlstm --seqs 1 2 3 4 5 --out OUT/convlstm
    python experiments/sequences_table.py --models resnet --seqs 2 --out OUT/resnet_bptt
    python experiments/sequences_table.py --models resnet --seqs 1 3 --out OUT/resnet8
    python experiments/sequences_table.py --models resnet --seqs 4 5 --out OUT/resnet8
    python experiments/sequences_table.py --models resnet --seqs 2 --switch-epoch 2 \\
        --out OUT/resnet_sts
    python experiments/sequences_table.py --out OUT/merged --merge OUT/snn OUT/ann ...

The 7x7 ConvSNN row of ``sequences_results/convsnn_7x7/``::

    python experiments/sequences_table.py --models convsnn --seqs 2 3 4 5 1 --snn-kernel 7 \\
        --out OUT/snn_k7
    python experiments/sequences_table.py --models convsnn --seqs 2 --seeds 1 2 --snn-kernel 7 \\
        --out OUT/snn_k7

The seq2 budget study of ``sequences_results/seq2_16epochs/`` (every model 16 epochs, learning
rate x0.3 after epoch 10)::

    python experiments/sequences_table.py --epochs 16 --lr-step 10 --models convsnn --seqs 2 \\
        --seeds 0 1 --out OUT/seq2_16
    python experiments/sequences_table.py --epochs 16 --lr-step 10 \\
        --models cnn cnn_lstm c3d convlstm --seqs 2 --out OUT/seq2_16

The paper's widths: ``--ann-width 256 --convlstm-width 256 --resnet-width 16 --snn-lr 5e-4
--lr-schedule none --epochs 100`` (days on a CPU).
"""

from __future__ import annotations

import argparse
import fcntl
import json
import logging
import os
import pathlib
import sys
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "main"))

from protocols import CPU_PROTOCOL, LABELS, MODELS, PAPER, classifier_kwargs  # noqa: E402
from protocols import resolve as _resolve  # noqa: E402
from sequences import load_clips  # noqa: E402

log = logging.getLogger("spykeflow.experiments.sequences")

DEFAULTS = dict(
    model="convsnn", seq=2, seed=0, data_seed=0, n_train=10000, n_test=2000, epochs=30,
    learning_rate=None, batch_size=None, backend_params=None, data_root=None, cache_dir=None,
    switch_epoch=None, rate_clips=200, progress=False, lr_schedule=None, lr_schedule_params=None,
)


def load_split(seq, split, n, data_seed, root=None, cache_dir=None):
    """Clips as float32 in [0, 1] ``(N, 10, 28, 28)`` and int labels."""
    cache = None
    if cache_dir is not None:
        cache = pathlib.Path(cache_dir) / f"seq{seq}_{split}_n{n}_d{data_seed}.npz"
    return load_clips(seq, split, n, data_seed, root, cache=cache)


def run(config):
    """Train and evaluate one (model, sequence, seed); return the metrics dict.

    ``config`` keys (missing ones take :data:`DEFAULTS`): ``model`` (short name of
    :data:`MODELS` or backend name), ``seq`` (1..5), ``seed`` (training), ``data_seed``,
    ``n_train``, ``n_test``, ``epochs``, ``learning_rate``/``batch_size`` (None: the paper's),
    ``backend_params`` (overrides, e.g. ``{"filters": [32, 32]}``), ``switch_epoch`` (STS
    models; None = half of the epochs), ``data_root``, ``cache_dir``, ``rate_clips``
    (test clips used to measure spike rates), ``progress``, ``lr_schedule`` /
    ``lr_schedule_params`` (passed to :class:`~spykeflow.classifier.Classifier`).
    """
    import keras

    from spykeflow import complexity
    from spykeflow.classifier import Classifier
    from spykeflow.layers.sts import set_mode

    unknown = set(config) - set(DEFAULTS)
    if unknown:
        raise ValueError(f"Unknown config keys {sorted(unknown)}. Expected {sorted(DEFAULTS)}.")
    cfg = {**DEFAULTS, **config}
    short, (backend, params, lr, bs) = _resolve(cfg["model"])
    params = {**params, **(cfg["backend_params"] or {})}
    sts = backend.startswith("sts_")
    if sts:
        params["switch_epoch"] = cfg["switch_epoch"]
    lr = cfg["learning_rate"] or lr
    bs = cfg["batch_size"] or bs

    t0 = time.perf_counter()
    x_tr, y_tr = load_split(cfg["seq"], "train", cfg["n_train"], cfg["data_seed"], cfg["data_root"],
                            cfg["cache_dir"])
    x_te, y_te = load_split(cfg["seq"], "test", cfg["n_test"], cfg["data_seed"], cfg["data_root"],
                            cfg["cache_dir"])
    data_s = time.perf_counter() - t0

    clf = Classifier(backend, backend_params=params, epochs=int(cfg["epochs"]), batch_size=int(bs),
                     learning_rate=float(lr), seed=int(cfg["seed"]), restore_best=False,
                     lr_schedule=cfg["lr_schedule"], lr_schedule_params=cfg["lr_schedule_params"],
                     progress=bool(cfg["progress"]))
    t0 = time.perf_counter()
    clf.fit(x_tr, y_tr, validation_data=(x_te, y_te))
    train_s = time.perf_counter() - t0
    hist = clf.history_
    test_curve = [float(v) for v in hist.get("val_accuracy", [])]
    snn_epochs = hist.get("sts_snn") or (clf.backend_._switch.snn_epochs if sts else None) \
        or [1.0] * len(test_curve)
    eligible = [a for a, s in zip(test_curve, snn_epochs) if s > 0.5] or test_curve
    pred = np.asarray(clf.predict(x_te))
    acc_final = float(np.mean(pred == y_te))
    # 20-class sequences (label = digit + 10 * direction): which half of the label was wrong
    errors, n_cls = None, int(max(np.max(clf.classes_), y_te.max())) + 1
    if n_cls > 10:
        wrong = pred != y_te
        errors = dict(direction=float(np.mean(wrong & (pred % 10 == y_te % 10))),
                      digit=float(np.mean(pred % 10 != y_te % 10)))

    model = clf.model_
    rates = None
    if sts:
        set_mode(model, "snn")
        rates = complexity.measure_input_rates(model, x_te[: int(cfg["rate_clips"])])
    cx = complexity.complexity(model, rates)
    metrics = dict(
        model=short, backend=backend, seq=int(cfg["seq"]), seed=int(cfg["seed"]),
        data_seed=int(cfg["data_seed"]), n_train=int(cfg["n_train"]), n_test=int(cfg["n_test"]),
        epochs=int(cfg["epochs"]), batch_size=int(bs), learning_rate=float(lr),
        lr_schedule=cfg["lr_schedule"], lr_schedule_params=cfg["lr_schedule_params"],
        backend_params=clf.backend_.get_config(),
        acc_final=acc_final, test_errors=errors,
        confusion=np.bincount(y_te * n_cls + pred, minlength=n_cls * n_cls)
        .reshape(n_cls, n_cls).tolist(),
        acc_best=float(max(eligible)) if eligible else acc_final,
        params=cx["params"], macs=cx["macs"], ops=float(cx["ops"]),
        train_s=train_s, data_s=data_s, test_curve=test_curve,
        train_curve=[float(v) for v in hist.get("accuracy", [])],
        loss_curve=[float(v) for v in hist.get("loss", [])],
        sts_snn=[float(v) for v in snn_epochs],
        switch_epoch=None if not sts else clf.backend_._switch.switched_at,
        keras=keras.__version__, keras_backend=keras.backend.backend(),
    )
    log.info("%s seq%d seed%d: final %.4f best %.4f (%.0f s)", short, metrics["seq"],
             metrics["seed"], acc_final, metrics["acc_best"], train_s)
    return metrics


def _mean_std(values):
    values = np.asarray(values, float) * 100
    if len(values) == 1:
        return f"{values[0]:.2f}"
    return f"{values.mean():.2f} ± {values.std(ddof=1):.2f}"


def write_tables(runs, out):
    """``runs.csv``, ``table.csv``, ``table.md`` and ``accuracy_vs_ops.png`` in ``out`` from the
    run metrics."""
    from spykeflow.complexity import format_ops
    from spykeflow.io import atomic_path, write_text_atomic

    out = pathlib.Path(out)
    for r in runs:  # runs recorded before sts_snn reached the history: SNN epochs from the switch
        if r.get("switch_epoch") is not None and not r.get("sts_snn") and r["test_curve"]:
            r["sts_snn"] = [float(e >= r["switch_epoch"]) for e in range(len(r["test_curve"]))]
            r["acc_best"] = max(r["test_curve"][r["switch_epoch"]:] or r["test_curve"])
    cols = ["model", "seq", "seed", "n_train", "n_test", "epochs", "acc_final", "acc_best",
            "params", "macs", "ops", "train_s"]
    lines = [",".join(cols)] + [",".join(str(r[c]) for c in cols) for r in runs]
    write_text_atomic(out / "runs.csv", "\n".join(lines) + "\n")

    models = [m for m in MODELS if any(r["model"] == m for r in runs)]
    seqs = sorted({r["seq"] for r in runs})
    head = ["model"] + [f"seq{s}" for s in seqs] + ["params (last seq)", "MOps/clip (last seq)",
                                                     "paper"]
    md = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    csv = ["model,seq,acc_best_mean,acc_best_std,acc_final_mean,acc_final_std,n_seeds,params,ops"]
    for m in models:
        cells = [m]
        for s in seqs:
            rs = [r for r in runs if r["model"] == m and r["seq"] == s]
            if not rs:
                cells.append("–")
                continue
            best = [r["acc_best"] for r in rs]
            final = [r["acc_final"] for r in rs]
            cells.append(f"{_mean_std(best)} (final {_mean_std(final)})")
            sd_best = np.std(best, ddof=1) if len(best) > 1 else 0
            sd_final = np.std(final, ddof=1) if len(final) > 1 else 0
            csv.append(f"{m},{s},{np.mean(best):.4f},{sd_best:.4f},"
                       f"{np.mean(final):.4f},{sd_final:.4f},"
                       f"{len(rs)},{rs[0]['params']},{np.mean([r['ops'] for r in rs]):.0f}")
        mine = [r for r in runs if r["model"] == m]
        last = [r for r in mine if r["seq"] == max(x["seq"] for x in mine)]
        cells.append(str(last[0]["params"]) if last else "–")
        cells.append(format_ops(np.mean([r["ops"] for r in last])) if last else "–")
        cells.append(" / ".join(f"{PAPER[m][s - 1]}" for s in seqs))
        md.append("| " + " | ".join(cells) + " |")
    settings = sorted({(r["n_train"], r["n_test"], r["epochs"]) for r in runs})
    md.append("")
    md.append("Accuracy in % on the test clips: best epoch (the paper's protocol; STS models: "
              "spiking epochs only) and final epoch, mean ± std over seeds. Settings "
              "(n_train, n_test, epochs): " + ", ".join(map(str, settings)) + ". Wall time of all "
              f"fits: {sum(r['train_s'] for r in runs) / 60:.1f} min (shared, loaded CPU).")
    write_text_atomic(out / "table.md", "\n".join(md) + "\n")
    write_text_atomic(out / "table.csv", "\n".join(csv) + "\n")
    fig = plot_accuracy_vs_ops(runs)
    with atomic_path(out / "accuracy_vs_ops.png") as tmp:
        fig.savefig(tmp, format="png", dpi=110)


def plot_accuracy_vs_ops(runs):
    """The paper's Figure 6 for every sequence in ``runs``: best test accuracy against operations
    per clip (MACs of ANN layers + measured synaptic operations of spiking layers), one point
    per model (mean over seeds, error bar = std when there are several seeds)."""
    import matplotlib
    import matplotlib.ticker
    from matplotlib.figure import Figure  # no pyplot: nothing to close, any backend

    seqs = sorted({r["seq"] for r in runs})
    fig = Figure(figsize=(max(3.3 * len(seqs), 5.0), 3.4), layout="constrained")  # title fits
    axes = fig.subplots(1, len(seqs), squeeze=False)
    colours = dict(zip(MODELS, matplotlib.colormaps["tab10"].colors))
    for ax, seq in zip(axes[0], seqs):
        for m in MODELS:
            rs = [r for r in runs if r["model"] == m and r["seq"] == seq]
            if not rs:
                continue
            acc = np.array([r["acc_best"] for r in rs]) * 100
            ops = np.mean([r["ops"] for r in rs]) / 1e6
            ax.errorbar(ops, acc.mean(), yerr=acc.std(ddof=1) if len(acc) > 1 else None,
                        fmt="o", color=colours[m], capsize=3, label=LABELS[m])
            ax.annotate(LABELS[m], (ops, acc.mean()), textcoords="offset points", xytext=(4, 4),
                        fontsize=7, color=colours[m])
        ax.margins(y=0.15)
        ax.set_xscale("log")
        lo, hi = ax.get_xlim()
        ticks = [t for t in (1, 3, 10, 30, 100, 300, 1000) if lo / 1.5 <= t <= hi * 1.5]
        ax.set_xlim(min([lo / 1.3] + ticks), max([hi * 1.8] + ticks))   # room for the labels
        ax.xaxis.set_major_locator(matplotlib.ticker.FixedLocator(ticks))
        ax.xaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_xlabel("MOps per clip (log)")
        ax.set_title(f"seq{seq}")
        ax.grid(alpha=0.3, which="both")
    axes[0][0].set_ylabel("best test accuracy (%)")
    fig.suptitle("Accuracy vs operations per clip (Samadzadeh et al., Fig. 6)", fontsize=10)
    return fig


def _same_settings(run, kw):
    """Whether a recorded run used the learning rate and backend parameters of ``kw``."""
    if not np.isclose(run["learning_rate"], kw["learning_rate"]):
        return False
    recorded = run["backend_params"]
    return all(json.dumps(recorded.get(k), sort_keys=True) == json.dumps(v, sort_keys=True)
               for k, v in kw["backend_params"].items())


def _load_runs(path):
    if not path.is_file():
        return []
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _append_run(path, metrics):
    """Add ``metrics`` to ``runs.jsonl`` and return all runs now in it.

    The file is re-read under an exclusive lock just before the write, so processes sharing an
    ``--out`` folder keep each other's runs (each used to rewrite the file from the list it had
    read at its start, dropping runs another process had finished in between).
    """
    from spykeflow.io import write_text_atomic

    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        runs = _load_runs(path) + [metrics]
        write_text_atomic(path, "".join(json.dumps(r) + "\n" for r in runs))
    return runs


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    P = CPU_PROTOCOL
    parser.add_argument("--models", nargs="+", default=["convsnn", "cnn"], choices=sorted(MODELS))
    parser.add_argument("--seqs", nargs="+", type=int, default=[2, 4])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--n-train", type=int, default=P["n_train"])
    parser.add_argument("--n-test", type=int, default=P["n_test"])
    parser.add_argument("--epochs", type=int, default=P["epochs"])
    parser.add_argument("--switch-epoch", type=int, default=None,
                        help="STS pre-training epochs of the ConvSNN and STS-ResNet (default: "
                        f"ConvSNN {P['switch_epoch']}, STS-ResNet {P['resnet_switch_epoch']}; "
                        "0 = plain BPTT, spikes from the first epoch)")
    parser.add_argument("--ann-width", type=int, default=P["ann_width"],
                        help="filters of the ANN baselines' two stages and LSTM units "
                        "(the paper's: 256)")
    parser.add_argument("--snn-width", type=int, default=P["snn_width"],
                        help="filters of the ConvSNN's two layers (the paper's: 48)")
    parser.add_argument("--snn-kernel", type=int, default=P["snn_kernel"],
                        help="kernel size of the ConvSNN's convolutions (not given in the paper)")
    parser.add_argument("--convlstm-width", type=int, default=P["convlstm_width"],
                        help="filters of the ConvLSTM baseline; its recurrent convolutions make "
                        "it ~10x the cost of the other models at the same width")
    parser.add_argument("--resnet-width", type=int, default=P["resnet_width"],
                        help="STS-ResNet base_width (the paper's: 16)")
    parser.add_argument("--snn-lr", type=float, default=P["snn_lr"],
                        help="learning rate of the ConvSNN (the paper's: 5e-4)")
    parser.add_argument("--snn-sigma", type=float, default=P["snn_surrogate"]["sigma"],
                        help="width (standard deviation) of the ConvSNN's Gaussian surrogate "
                        "(the paper's N(0.5, 1/6))")
    parser.add_argument("--resnet-sigma", type=float,
                        default=P["resnet_surrogate"]["sigma"],
                        help="width of the STS-ResNet's Gaussian surrogate (the paper's: 1/6, "
                        "with which 18 spiking layers did not learn here)")
    parser.add_argument("--resnet-lr", type=float, default=P["resnet_lr"],
                        help="learning rate of the STS-ResNet (the paper's: 1e-3)")
    parser.add_argument("--lr-schedule", choices=["step", "plateau", "none"],
                        default=P["lr_schedule"], help="learning-rate schedule of every model")
    parser.add_argument("--lr-step", type=int, default=P["lr_schedule_params"]["step_size"],
                        help="epochs between learning-rate drops of --lr-schedule step")
    parser.add_argument("--lr-gamma", type=float, default=P["lr_schedule_params"]["gamma"],
                        help="learning-rate factor of each drop of --lr-schedule step")
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--cache-dir", default=None, help="folder for cached clips (.npz)")
    parser.add_argument("--out", default="outputs/sequences_table")
    parser.add_argument("--progress", action="store_true")
    parser.add_argument("--merge", nargs="*", default=None, metavar="DIR_OR_JSON",
                        help="only rebuild the tables in --out from these runs.jsonl folders "
                        "and sequences_curves.py JSON files (no training)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")

    from spykeflow.io import write_text_atomic

    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    runs_path = out / "runs.jsonl"
    if args.merge is not None:
        runs = []
        for src in map(pathlib.Path, args.merge):
            if src.suffix == ".json":
                with open(src, encoding="utf-8") as fh:
                    runs += list(json.load(fh).values())[:1]   # the STS run of the curves
            else:
                runs += _load_runs(src / "runs.jsonl")
        write_text_atomic(runs_path, "".join(json.dumps(r) + "\n" for r in runs))
        write_tables(runs, out)
        return 0
    schedule = None if args.lr_schedule == "none" else args.lr_schedule
    overrides = dict(
        lr_schedule=schedule,
        lr_schedule_params={"step_size": args.lr_step, "gamma": args.lr_gamma}
        if schedule == "step" else None,
        ann_width=args.ann_width, convlstm_width=args.convlstm_width, snn_width=args.snn_width,
        snn_kernel=args.snn_kernel,
        resnet_width=args.resnet_width, snn_lr=args.snn_lr, resnet_lr=args.resnet_lr,
        snn_surrogate={"name": "gaussian", "sigma": args.snn_sigma},
        resnet_surrogate={"name": "gaussian", "sigma": args.resnet_sigma})
    runs = _load_runs(runs_path)
    for seq in args.seqs:
        for model in args.models:
            for seed in args.seeds:
                kw = classifier_kwargs(model, epochs=args.epochs,
                                       switch_epoch=args.switch_epoch, **overrides)
                bp = kw["backend_params"]
                key = dict(model=model, seq=seq, seed=seed, n_train=args.n_train,
                           n_test=args.n_test, epochs=args.epochs)
                same = [r for r in runs if all(r[k] == v for k, v in key.items())]
                if any(_same_settings(r, kw) for r in same):
                    log.info("skip finished run %s", key)
                    continue
                if same:
                    raise SystemExit(
                        f"{runs_path} holds a finished run of {key} with other settings "
                        f"(learning rate or backend parameters). Write runs of a different "
                        f"configuration to another --out folder; --merge combines folders.")
                metrics = run(dict(model=model, seq=seq, seed=seed, n_train=args.n_train,
                                   n_test=args.n_test, epochs=args.epochs, backend_params=bp,
                                   learning_rate=kw["learning_rate"],
                                   lr_schedule=kw["lr_schedule"],
                                   lr_schedule_params=kw["lr_schedule_params"],
                                   switch_epoch=bp.get("switch_epoch"), data_root=args.data_root,
                                   cache_dir=args.cache_dir, progress=args.progress))
                runs = _append_run(runs_path, metrics)
                write_tables(runs, out)
    if runs:
        write_tables(runs, out)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.exit(main())
