"""Epoch time of the binary readout: event-driven (gather-sum) vs dense first layer.

Prints one JSON document. Uses real Pool1 features when ``--features file.npz`` (keys
``X_train``, ``y_train``) is given, else synthetic binary features with MNIST Pool1 statistics
(3630-d, ~104 active inputs per sample, 10 classes).

    python bench/bench_readout.py --n 20000 --epochs 3 --batch-sizes 64 256 --repeats 1

The time of an epoch is the wall clock of the Keras epoch (training + validation pass), median
over epochs 2..E of each run (epoch 1 includes tracing), median over repeats.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402


def synthetic(n, f=3630, active=104, k=10, seed=0):
    rng = np.random.default_rng(seed)
    # class-dependent activation probabilities so the task is learnable
    protos = rng.random((k, f)) ** 4
    y = rng.integers(0, k, n)
    p = protos[y]
    p *= active / p.sum(axis=1, keepdims=True)
    x = rng.random((n, f)) < np.clip(p, 0, 1)
    return x, y


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--features", help=".npz with X_train, y_train (real Pool1 features)")
    ap.add_argument("--n", type=int, default=20000, help="training samples used")
    ap.add_argument("--hidden", type=int, default=1000)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch-sizes", type=int, nargs="+", default=[64, 256])
    ap.add_argument("--modes", nargs="+", default=["event", "dense"])
    ap.add_argument("--repeats", type=int, default=1)
    args = ap.parse_args(argv)

    import tensorflow as tf

    from spykeflow import Classifier

    if args.features:
        with np.load(args.features, allow_pickle=False) as d:
            x, y = d["X_train"][: args.n] > 0, d["y_train"][: args.n]
        source = args.features
    else:
        x, y = synthetic(args.n)
        source = "synthetic"
    results = []
    for bs in args.batch_sizes:
        for mode in args.modes:
            times, accs = [], []
            for r in range(args.repeats):
                clf = Classifier("binary",
                                 backend_params={"hidden": args.hidden, "input_mode": mode},
                                 epochs=args.epochs, batch_size=bs, optimizer="adam",
                                 learning_rate=1e-3, progress=False, seed=r)
                t0 = time.perf_counter()
                clf.fit(x, y)
                wall = time.perf_counter() - t0
                et = clf.history_["epoch_time"]
                times.append(statistics.median(et[1:]) if len(et) > 1 else et[0])
                accs.append(clf.history_["val_accuracy"][-1])
            results.append({
                "input_mode": mode, "batch_size": bs,
                "epoch_time_s_median": statistics.median(times), "epoch_times": times,
                "samples_per_s": round(len(x) * 0.91 / statistics.median(times), 1),
                "fit_wall_s_last": round(wall, 2), "val_accuracy_last": accs,
            })
            print(json.dumps(results[-1]), flush=True, file=__import__("sys").stderr)
    out = {
        "bench": "readout_epoch_time",
        "source": source, "n_train": int(len(x) - int(0.09 * len(x))), "features": int(x.shape[1]),
        "active_per_sample_mean": float(x.sum(1).mean()), "hidden": args.hidden,
        "epochs": args.epochs, "repeats": args.repeats,
        "tf": tf.__version__, "cpu_count": os.cpu_count(), "machine": platform.machine(),
        "note": "measured on a shared 2-core machine under load from other jobs",
        "results": results,
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
