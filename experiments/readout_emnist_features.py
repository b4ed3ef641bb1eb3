"""Pool1 binary features of the EMNIST Balanced files available under the data root (issue 4).

Encodes the images with ``InputLayer`` and runs a saved Conv1 ``Network`` (by default the MNIST
Conv1 of ``experiments/network_results/mnist_conv1.json``: the paper trained Conv1 on EMNIST
images, so pass an EMNIST-trained network with ``--network`` when you have one), then writes
the feature file read by ``experiments/readout_mnist.py --task emnist``.

Only a subset of EMNIST Balanced ships with this project (9,120 train / 304 test); with the
official files under ``<root>/emnist_balanced/`` the same command processes the full split.

    SPYKEFLOW_DATA=/work/shared/datasets python experiments/readout_emnist_features.py \\
        --out /tmp/emnist_pool1.npz
"""

from __future__ import annotations

import argparse
import logging
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--network", default="experiments/network_results/mnist_conv1.json")
    ap.add_argument("--root", default=None)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    from spykeflow import InputLayer, Network, datasets
    from spykeflow import io as sfio

    enc = InputLayer().fit()
    net = Network.load(args.network)
    out = {}
    for split in ("train", "test"):
        x, y = datasets.load("emnist_balanced", split, root=args.root)
        t0 = time.perf_counter()
        parts = []
        for s in range(0, len(x), args.batch):
            f = net.transform(enc.transform(x[s:s + args.batch]))
            f = f.toarray() if hasattr(f, "toarray") else np.asarray(f)
            parts.append(np.packbits((f > 0).astype(np.uint8), axis=1))
            n_features = f.shape[1]
        out[f"X_{split}_packed"] = np.concatenate(parts)
        out[f"y_{split}"] = y.astype(np.int64)
        logging.info("%s: %d images in %.1f s", split, len(x), time.perf_counter() - t0)
    sfio.save_npz_atomic(args.out, n_features=np.int64(n_features), **out)


if __name__ == "__main__":
    main()
