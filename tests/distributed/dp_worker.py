"""One training run of the data-parallel tests (started by test_data_parallel.py).

    python dp_worker.py --out W.npz [--distribution data_parallel]
        [--coordinator 127.0.0.1:PORT --num-processes 2 --process-id I]

Trains ``Classifier(backend=...)`` for a few epochs on fixed synthetic data (the same on every
process) and writes the learned weights and the predictions to ``--out`` (process 0 only in a
multi-process run). Set ``XLA_FLAGS=--xla_force_host_platform_device_count=2`` for two CPU
devices in one process.
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")

import numpy as np  # noqa: E402


def data(n=150, features=24, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, features)).astype("float32")
    w = rng.standard_normal((features, classes))
    y = np.argmax(x @ w, axis=1).astype("int64")
    return x, y


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--backend", default="relu")
    ap.add_argument("--distribution", default=None)
    ap.add_argument("--coordinator")
    ap.add_argument("--num-processes", type=int)
    ap.add_argument("--process-id", type=int)
    args = ap.parse_args(argv)

    import keras

    if args.coordinator:
        keras.distribution.initialize(args.coordinator, args.num_processes, args.process_id)
    import jax

    from spykeflow import Classifier

    x, y = data()
    clf = Classifier(backend=args.backend, epochs=3, batch_size=20, learning_rate=0.01,
                     optimizer="adam", validation_split=0.1, seed=0, progress=False,
                     distribution=args.distribution)
    clf.fit(x, y)
    weights = [np.asarray(v.value.addressable_shards[0].data)
               for v in clf.model_.trainable_variables]
    scores = clf.decision_scores(x[:17])
    if jax.process_index() == 0:
        np.savez(args.out, devices=jax.device_count(), processes=jax.process_count(),
                 scores=scores, loss=np.array(clf.history_["loss"]),
                 **{f"w{i}": w for i, w in enumerate(weights)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
