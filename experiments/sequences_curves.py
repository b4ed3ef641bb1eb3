#!/usr/bin/env python
"""STS vs plain BPTT training curves of an STS model on one synthetic sequence (paper Fig. 7).

Trains ``--model`` (``convsnn`` or ``resnet``) twice with the same seed and data: with STS
(``--switch-epoch`` epochs of shifted leaky-ReLU pre-training, then spikes) and with plain BPTT
(spikes from the start), and plots training and test accuracy per epoch. Writes
``curves_<model>_seq<k>.png`` and ``.json`` (all numbers) into ``--out``. ``--from-runs STS BPTT``
draws the figure from two finished ``sequences_table.py`` output folders instead of training.

    python experiments/sequences_curves.py --seq 2 --n-train 2000 --n-test 500 --epochs 6 \\
        --switch-epoch 3 --out outputs/sequences_curves
    python experiments/sequences_curves.py --model resnet --seq 2 --switch-epoch 2 \\
        --from-runs OUT/resnet_sts OUT/resnet_bptt --out OUT
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from sequences_table import run  # noqa: E402

log = logging.getLogger("spykeflow.experiments.sequences")


def plot(results, seq, switch_epoch, model="convsnn"):
    """Figure of training/test accuracy per epoch for each method in ``results``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for label, m in results.items():
        epochs = range(1, len(m["train_curve"]) + 1)
        axes[0].plot(epochs, m["train_curve"], marker="o", label=label)
        axes[1].plot(epochs, m["test_curve"], marker="o", label=label)
    for ax, title in zip(axes, ("training accuracy", "test accuracy")):
        if switch_epoch:
            ax.axvline(switch_epoch + 0.5, color="grey", ls="--", lw=1)
            ax.text(switch_epoch + 0.6, 0.02, "switch to spikes", color="grey", fontsize=8)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        name = "ConvSNN 48-48" if model == "convsnn" else "STS-ResNet"
        ax.set_title(f"{name}, seq{seq}: {title}")
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("accuracy")
    axes[1].legend()
    fig.tight_layout()
    return fig


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", choices=("convsnn", "resnet"), default="convsnn")
    parser.add_argument("--seq", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-train", type=int, default=2000)
    parser.add_argument("--n-test", type=int, default=500)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--switch-epoch", type=int, default=3)
    parser.add_argument("--snn-width", type=int, default=48, help="ConvSNN filters")
    parser.add_argument("--resnet-width", type=int, default=8, help="STS-ResNet base width")
    parser.add_argument("--lr", type=float, default=None,
                        help="learning rate (default: the paper's, 5e-4 ConvSNN, 1e-3 ResNet)")
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--cache-dir", default=None)
    parser.add_argument("--out", default="outputs/sequences_curves")
    parser.add_argument("--from-runs", nargs=2, metavar=("STS_DIR", "BPTT_DIR"), default=None,
                        help="no training: take the two runs of --model/--seq from these "
                        "sequences_table.py output folders")
    parser.add_argument("--only", choices=("sts", "bptt"), default=None,
                        help="train only one method (run the two in parallel processes); the "
                        "plot is drawn once both JSON files exist")
    parser.add_argument("--plot-only", action="store_true",
                        help="no training: redraw the figure from the two JSON files in --out")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")

    from spykeflow.io import read_json, write_json_atomic

    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    methods = {"sts": (f"STS (switch after {args.switch_epoch})", args.switch_epoch),
               "bptt": ("plain BPTT", 0)}
    stem = f"curves_{args.model}_seq{args.seq}"
    params = ({"filters": [args.snn_width] * 2} if args.model == "convsnn"
              else {"base_width": args.resnet_width})
    for i, (key, (label, switch)) in enumerate(methods.items()):
        if args.plot_only or args.only not in (None, key):
            continue
        if args.from_runs:
            with open(pathlib.Path(args.from_runs[i]) / "runs.jsonl", encoding="utf-8") as fh:
                runs = [json.loads(line) for line in fh if line.strip()]
            matches = [r for r in runs if r["model"] == args.model and r["seq"] == args.seq]
            if not matches:
                raise SystemExit(f"--from-runs: no {args.model} seq{args.seq} run in "
                                 f"{args.from_runs[i]}/runs.jsonl")
            metrics = matches[0]
        else:
            metrics = run(dict(
                model=args.model, seq=args.seq, seed=args.seed, n_train=args.n_train,
                n_test=args.n_test, epochs=args.epochs, switch_epoch=switch,
                learning_rate=args.lr, backend_params=params, data_root=args.data_root,
                cache_dir=args.cache_dir))
        write_json_atomic(out / f"{stem}_{key}.json", {label: metrics})
    results = {}
    for key in methods:
        path = out / f"{stem}_{key}.json"
        if path.is_file():
            results.update(read_json(path))
    if len(results) < len(methods):
        log.info("plot deferred until both methods have run")
        return 0
    write_json_atomic(out / f"{stem}.json", results)
    fig = plot(results, args.seq, args.switch_epoch, args.model)
    tmp = out / f".{stem}.tmp.png"
    fig.savefig(tmp, dpi=120)
    os.replace(tmp, out / f"{stem}.png")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.exit(main())
