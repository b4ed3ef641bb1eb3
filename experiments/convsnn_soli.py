"""ConvSNN on Soli radar gestures (range-Doppler -> spikes -> 4-bit ConvSNN), when the data exist.

Looks for Soli HDF5 files through ``spykeflow.datasets.load("soli")`` (``--root`` or
``$SPYKEFLOW_DATA``; folders ``soli/`` or ``soli_sample/``). Uses Deep-Soli's published split
(``file_half.json``) when present, otherwise a seeded 75/25 split of all files. Preprocessing:
:func:`spykeflow.functional.radar.preprocess_soli` (resample to ``--time-steps`` frames,
per-channel normalisation, ``--encoding`` with ``--threshold``).

* No data: prints where it looked and exits with status 0.
* Fewer than 2 gesture classes (the shared 14-file sample holds gesture 0 only): builds and checks
  the spike frames, writes their statistics, trains nothing.
* Otherwise: trains the ConvSNN through ``spykeflow.Classifier`` and writes float and quantised
  test accuracy.

    python experiments/convsnn_soli.py --out outputs/convsnn_soli/metrics.json
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import pathlib
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

import spykeflow  # noqa: E402
from spykeflow import io as sio  # noqa: E402
from spykeflow.functional.radar import preprocess_soli  # noqa: E402

log = logging.getLogger("convsnn_soli")


def load(root, seed):
    """Train/test recordings; raises DatasetNotFoundError when no Soli file is found."""
    from spykeflow.datasets import DatasetNotFoundError

    try:
        xtr, ytr = spykeflow.datasets.load("soli", split="train", root=root)
        xte, yte = spykeflow.datasets.load("soli", split="test", root=root)
        return xtr, ytr, xte, yte, "deep-soli file_half.json"
    except (DatasetNotFoundError, ValueError, FileNotFoundError) as exc:
        log.info("no published split (%s); using a seeded 75/25 split", exc)
    x, y = spykeflow.datasets.load("soli", split="all", root=root)
    order = np.random.default_rng(seed).permutation(len(x))
    n_test = max(1, len(x) // 4)
    te, tr = order[:n_test], order[n_test:]
    return x[tr], y[tr], x[te], y[te], f"seeded 75/25 of {len(x)} files"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default=None)
    ap.add_argument("--time-steps", type=int, default=40)
    ap.add_argument("--encoding", default="threshold", choices=("threshold", "delta", "rate"))
    ap.add_argument("--threshold", type=float, default=0.25)
    ap.add_argument("--bits", type=int, default=4)
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="outputs/convsnn_soli/metrics.json")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    try:
        xtr, ytr, xte, yte, split = load(args.root, args.seed)
    except FileNotFoundError as exc:  # DatasetNotFoundError is a FileNotFoundError
        print(f"Soli data not found; nothing to do.\n{exc}")
        return 0
    kw = dict(length=args.time_steps, encoding=args.encoding, threshold=args.threshold,
              seed=args.seed)
    ftr, fte = preprocess_soli(list(xtr), **kw), preprocess_soli(list(xte), **kw)
    out = {"config": vars(args), "split": split, "n_train": len(ytr), "n_test": len(yte),
           "frames_shape": list(ftr.shape[1:]),
           "raw_frames": [int(s.shape[0]) for s in list(xtr) + list(xte)],
           "spike_rate": float(np.concatenate([ftr, fte]).mean()),
           "spikes_per_sample": float(np.concatenate([ftr, fte]).sum() / (len(ftr) + len(fte))),
           "classes": sorted(set(ytr.tolist()) | set(yte.tolist()))}
    if len(np.unique(ytr)) < 2:
        out["test_accuracy"] = None
        out["note"] = ("fewer than 2 gesture classes in the data (the shared sample holds "
                       "gesture 0 only): spike frames built and checked, no classifier trained")
        log.warning(out["note"])
    else:
        clf = spykeflow.Classifier(
            "convsnn", backend_params={"bits": args.bits, "filters": [6],
                                       "kernel_sizes": [5], "hidden": [120]},
            epochs=args.epochs, batch_size=args.batch_size, learning_rate=args.lr,
            validation_split=0.0, seed=args.seed, progress=False)
        clf.fit(ftr.astype(np.float32), ytr)
        fte32 = fte.astype(np.float32)
        out["test_accuracy"] = float((clf.predict(fte32) == yte).mean())
        out["test_accuracy_float"] = float((clf.predict(fte32, quantized=False) == yte).mean())
    sio.write_json_atomic(pathlib.Path(args.out), out)
    print(json.dumps(out, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
