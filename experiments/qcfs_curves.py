"""Accuracy-vs-T curves of QCFS-converted SNNs against their ANNs and the classic conversion.

The command line of ``main/main.py qcfs`` (``main/qcfs.py``: the same configuration, training
and curves) with every setting as an option. Writes ``<out>/<dataset>.json`` (after every
network) and ``<out>/<dataset>.png``. Example::

    python experiments/qcfs_curves.py --dataset fashion --L 4 8 16 --epochs 4 --train-size 20000
"""

from __future__ import annotations

import argparse
import json
import logging
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "main"))

import qcfs  # noqa: E402  (main/qcfs.py)
from run import Run  # noqa: E402

DEFAULTS = qcfs.QcfsConfig()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", choices=["fashion", "mnist", "nmnist"], required=True)
    p.add_argument("--L", type=int, nargs="+", default=list(DEFAULTS.levels))
    p.add_argument("--epochs", type=int, default=DEFAULTS.epochs)
    p.add_argument("--train-size", type=int, default=DEFAULTS.train_limit)
    p.add_argument("--test-size", type=int, default=DEFAULTS.test_limit)
    p.add_argument("--batch-size", type=int, default=DEFAULTS.batch_size)
    p.add_argument("--lr", type=float, default=DEFAULTS.learning_rate)
    p.add_argument("--widths", type=int, nargs="+", default=list(DEFAULTS.widths))
    p.add_argument("--dense", type=int, default=DEFAULTS.dense)
    p.add_argument("--dropout", type=float, default=DEFAULTS.dropout)
    p.add_argument("--init-threshold", type=float, default=DEFAULTS.init_threshold)
    p.add_argument("--T", type=int, nargs="+", default=list(DEFAULTS.timesteps))
    p.add_argument("--no-relu", dest="relu", action="store_false", help="skip the classic baseline")
    p.add_argument("--duration-ms", type=float, default=DEFAULTS.duration_ms)
    p.add_argument("--bin-ms", type=float, default=DEFAULTS.bin_ms)
    p.add_argument("--seed", type=int, default=DEFAULTS.seed)
    p.add_argument("--data-root", default=None)
    p.add_argument("--out", default="outputs/qcfs")
    p.add_argument("--replot", action="store_true", help="only redraw the PNG from the JSON")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    out = pathlib.Path(args.out)
    run = Run(out)
    if args.replot:
        results = json.loads((out / f"{args.dataset}.json").read_text())
        run.save_figure(qcfs.plot(results), f"{args.dataset}.png")
        return
    config = qcfs.QcfsConfig(
        pipeline="qcfs", dataset=args.dataset, levels=tuple(args.L), relu=args.relu,
        timesteps=tuple(args.T), epochs=args.epochs, train_limit=args.train_size,
        test_limit=args.test_size, batch_size=args.batch_size, learning_rate=args.lr,
        widths=tuple(args.widths), dense=args.dense, dropout=args.dropout,
        init_threshold=args.init_threshold, duration_ms=args.duration_ms, bin_ms=args.bin_ms,
        seed=args.seed, data_root=args.data_root)
    results = qcfs.curves(run, config)
    run.save_figure(qcfs.plot(results), f"{args.dataset}.png")
    print(json.dumps({r["method"] + (f"-L{r['L']}" if r["L"] else ""): {
        "ann": r["ann_acc"], "snn": r["snn_acc"]} for r in results["runs"]}, indent=1))


if __name__ == "__main__":
    main()
