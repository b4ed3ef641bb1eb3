"""MNIST feature quality of the STDP front end (issue 3, not part of CI).

Conv1 (published main-script setting, ``Network.preset("mnist_conv1")``) is trained on the first
6,000 MNIST training images; Pool1 binary features of all 60,000 + 10,000 images are extracted
in streamed batches and read out by a LinearSVC. Optionally Conv2 (200 maps) is trained on
transient Pool1 spikes and its Pool2 features are read out too.

Usage::

    python experiments/network_features.py \
        --seed 0 --svm-c 0.03 0.1 0.3 --conv2-images 35000 \
        --out experiments/network_results/mnist_seed0.json --save-features mnist_pool1.npz

Feature file (``--save-features``): an uncompressed ``.npz`` with ``X_train_packed`` (60000, 454)
and ``X_test_packed`` (10000, 454) uint8 bit-packed rows (``np.unpackbits(a, axis=1,
count=n_features)`` gives the 0/1 features, map-major order ``c*121 + row*11 + col``),
``n_features`` (3630), ``y_train``, ``y_test`` (int64).
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import os
import pathlib
import resource
import time

import numpy as np
import scipy.sparse as sp


def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def extract(net, enc, images, batch):
    """Stream images -> spikes -> features; returns CSR features and transform-only times."""
    parts, wall, cpu = [], 0.0, 0.0
    for s in range(0, len(images), batch):
        spikes = enc.transform(images[s:s + batch])
        t0, c0 = time.perf_counter(), time.process_time()
        f = net.transform(spikes)
        wall += time.perf_counter() - t0
        cpu += time.process_time() - c0
        parts.append(sp.csr_matrix(f))
        logging.info("features %d/%d (%.1f img/s transform wall)", s + len(f), len(images),
                     (s + len(f)) / max(wall, 1e-9))
    return sp.vstack(parts).tocsr(), wall, cpu


def svm_accuracy(xtr, ytr, xte, yte, c):
    from sklearn.svm import LinearSVC

    t0 = time.perf_counter()
    clf = LinearSVC(C=c, dual=True, max_iter=5000, random_state=0).fit(xtr, ytr)
    return float((clf.predict(xte) == yte).mean()), time.perf_counter() - t0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default=None, help="data root (default $SPYKEFLOW_DATA)")
    ap.add_argument("--train-images", type=int, default=6000)
    ap.add_argument("--batch", type=int, default=2000)
    ap.add_argument("--net-batch", type=int, default=128, help="Network inference batch size")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--svm-c", type=float, nargs="+", default=[0.1],
                    help="LinearSVC C values (several: chosen on the last 5000 training images)")
    ap.add_argument("--variant", default="per_step", choices=["per_step", "end_of_image"],
                    help="stdp_update of Conv1 (to measure the effect of the deferred variant)")
    ap.add_argument("--random-baseline", action="store_true",
                    help="also read out features of the untrained (initial) Conv1 weights")
    ap.add_argument("--conv2-images", type=int, default=0,
                    help="train Conv2 (200 maps) on this many images and read out Pool2 (0: skip)")
    ap.add_argument("--limit", type=int, default=None, help="use only this many train/test images")
    ap.add_argument("--save-features", default=None, help="write Pool1 features to this .npz")
    ap.add_argument("--save-network", default=None, help="save the trained network here")
    ap.add_argument("--load-network", default=None,
                    help="skip Conv1 training and use this saved network (its history is reported)")
    ap.add_argument("--out", default=None, help="write the results JSON here")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    from spykeflow import InputLayer, Network, SpikePool, datasets

    xtr, ytr = datasets.load("mnist", "train", root=args.root)
    xte, yte = datasets.load("mnist", "test", root=args.root)
    if args.limit:
        xtr, ytr, xte, yte = xtr[:args.limit], ytr[:args.limit], xte[:args.limit], yte[:args.limit]
    enc = InputLayer(n_jobs=-1).fit()          # all CPUs (scikit-learn's None would be 1)
    res = {"train_images_conv1": args.train_images, "seed": args.seed, "variant": args.variant}

    spikes = enc.transform(xtr[:args.train_images])
    res["input_spikes_per_image"] = float(spikes.sum() / len(spikes))
    if args.load_network:
        net = Network.load(args.load_network)
        net.set_params(batch_size=args.net_batch, n_jobs=-1)
        res["loaded_network"] = args.load_network
    else:
        conv, pool = Network.preset("mnist_conv1").layers
        net = Network([conv.replace(stdp_update=args.variant), pool], seed=args.seed,
                      progress=False, batch_size=args.net_batch, n_jobs=-1)
        t0, c0 = time.perf_counter(), time.process_time()
        net.fit(spikes)
        res["conv1_fit_wall_s"] = time.perf_counter() - t0
        res["conv1_fit_cpu_s"] = time.process_time() - c0
        res["conv1_train_images_per_s_wall"] = args.train_images / res["conv1_fit_wall_s"]
    h = net.history_["layers"][0]
    res["winners_per_image"] = float(np.mean(h["winners_per_image"]))
    res["conv1_spikes_per_training_image"] = float(np.mean(h["spikes_per_image"]))
    res["C_l_snapshots"] = {int(i): float(c)
                            for i, c in zip(h["snapshot_images"], h["convergence"])}
    res["C_l_final"] = float(h["convergence"][-1])
    res["updates_per_map"] = list(map(int, h["updates_per_map"]))
    del spikes
    logging.info("conv1 ready: winners/image %.3f, C_l %.3g", res["winners_per_image"],
                 res["C_l_final"])
    if args.save_network:
        net.save(args.save_network)

    ftr, w1, c1 = extract(net, enc, xtr, args.batch)
    fte, w2, c2 = extract(net, enc, xte, args.batch)
    n_all = len(xtr) + len(xte)
    res["pool1_extract_images_per_s_wall"] = n_all / (w1 + w2)
    res["pool1_extract_cpu_s"] = c1 + c2
    res["pool1_binary_spikes_per_image_test"] = float(fte.sum() / fte.shape[0])
    res["peak_rss_mb_after_extraction"] = rss_mb()
    logging.info("pool1 extracted: %.1f img/s (transform only), %.1f spikes/img",
                 res["pool1_extract_images_per_s_wall"], res["pool1_binary_spikes_per_image_test"])

    # Pool1 spike counts (transient mode, the original's counts) on the first 2000 test images
    net_t = copy.deepcopy(net)
    net_t.layers_[1] = SpikePool(2, mode="transient")
    net_t.feature_values = "counts"
    cnt = net_t.transform(enc.transform(xte[:2000]))
    res["pool1_count_spikes_per_image_test2000"] = float(cnt.sum() / len(cnt))
    res["pool1_max_count"] = int(cnt.max())

    if args.save_features:
        from spykeflow import io as sfio

        sfio.save_npz_atomic(
            args.save_features,
            X_train_packed=np.packbits(ftr.toarray().astype(np.uint8), axis=1),
            X_test_packed=np.packbits(fte.toarray().astype(np.uint8), axis=1),
            n_features=np.int64(ftr.shape[1]), y_train=ytr.astype(np.int64),
            y_test=yte.astype(np.int64))

    res["svm"] = readout(ftr, ytr, fte, yte, args.svm_c)
    logging.info("pool1 svm: %s", res["svm"])

    if args.random_baseline:
        net_r = copy.deepcopy(net)
        net_r.weights_[0] = h["snapshots"][0]
        rtr, _, _ = extract(net_r, enc, xtr, args.batch)
        rte, _, _ = extract(net_r, enc, xte, args.batch)
        res["svm_random_conv1"] = readout(rtr, ytr, rte, yte, args.svm_c)
        logging.info("random conv1 svm: %s", res["svm_random_conv1"])

    if args.conv2_images:
        conv1, pool1, conv2, pool2 = Network.preset("mnist_conv2").layers
        # the trained Conv1 is given (given weights are used) and stays frozen (n_images=0)
        net2 = Network([conv1.replace(weights=net.weights_[0], n_images=0), pool1,
                        conv2.replace(n_images=args.conv2_images), pool2], seed=args.seed,
                       progress=False, batch_size=args.net_batch, n_jobs=-1)
        t0 = time.perf_counter()
        net2.fit(enc.transform(xtr[:args.conv2_images]))
        res["conv2_fit_wall_s"] = time.perf_counter() - t0
        h2 = net2.history_["layers"][2]
        res["conv2_winners_per_image"] = float(np.mean(h2["winners_per_image"]))
        res["conv2_C_l_final"] = float(h2["convergence"][-1])
        p2tr, _, _ = extract(net2, enc, xtr, args.batch)
        p2te, _, _ = extract(net2, enc, xte, args.batch)
        res["pool2_binary_spikes_per_image_test"] = float(p2te.sum() / p2te.shape[0])
        res["svm_pool2"] = readout(p2tr, ytr, p2te, yte, args.svm_c)
        res["svm_pool1_plus_pool2"] = readout(sp.hstack([ftr, p2tr]).tocsr(), ytr,
                                              sp.hstack([fte, p2te]).tocsr(), yte, args.svm_c)
        logging.info("pool2 svm: %s", res["svm_pool2"])

    res["peak_rss_mb"] = rss_mb()
    text = json.dumps(res, indent=2)
    print(text)
    if args.out:
        from spykeflow import io as sfio

        sfio.write_text_atomic(pathlib.Path(args.out), text + "\n")
    return res


def readout(xtr, ytr, xte, yte, cs):
    out = {}
    if len(cs) > 1:
        nv = min(5000, xtr.shape[0] // 5)
        val = {c: svm_accuracy(xtr[:-nv], ytr[:-nv], xtr[-nv:], ytr[-nv:], c)[0] for c in cs}
        best = max(val, key=val.get)
        out["val_accuracy"] = {str(c): v for c, v in val.items()}
    else:
        best = cs[0]
    acc, secs = svm_accuracy(xtr, ytr, xte, yte, best)
    out.update(C=best, test_accuracy=acc, fit_s=secs)
    return out


if __name__ == "__main__":
    main()
