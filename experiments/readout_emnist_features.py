"""Pool1 binary features of the EMNIST Balanced files available under the data root (issue 4).

Encodes the images with ``InputLayer``, trains Conv1 (``Network.preset("mnist_conv1")``, the
original's main-script setting) on the first 6,000 EMNIST training images as the paper did (a
few seconds), or loads a saved network with ``--network``, then writes the feature file read by
``experiments/readout_mnist.py --task emnist``.

Only a subset of EMNIST Balanced ships with this project (9,120 train / 304 test); with the
official files under ``<root>/emnist_balanced/`` the same command processes the full split.

    python experiments/readout_emnist_features.py \\
        --out emnist_pool1.npz
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
    ap.add_argument("--network", default=None, help="saved Network to use instead of training")
    ap.add_argument("--stdp-images", type=int, default=6000, help="Conv1 training images")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--root", default=None)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    from spykeflow import InputLayer, Network, datasets
    from spykeflow import io as sfio

    enc = InputLayer(n_jobs=-1).fit()          # all CPUs (scikit-learn's None would be 1)
    if args.network:
        net = Network.load(args.network).set_params(n_jobs=-1)
    else:
        x, _ = datasets.load("emnist_balanced", "train", root=args.root)
        net = Network.preset("mnist_conv1", seed=args.seed, progress=False, n_jobs=-1)
        net.fit(enc.transform(x[:args.stdp_images]))
        h = net.history_["layers"][0]
        logging.info("Conv1 trained on %d images: %.2f winners/image, C_l %.2e",
                     h["images_trained"], np.mean(h["winners_per_image"]), h["convergence"][-1])
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
