"""Fingerprint of the MNIST Conv1 + Pool1 + LinearSVC pipeline: SHA-256 of the learned Conv1
weights and of the binary Pool1 features, and the LinearSVC test accuracy, as JSON.

Two checkouts that print the same hashes for the same seed extract the same features bit for
bit (used to check that a refactoring changed nothing)::

    python bench/features_fingerprint.py --train 6000 \
        --svm-train 10000 --test 10000

Not a test and not a timing: it only prints what it computed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import time


def _sha(array) -> str:
    import numpy as np

    a = np.ascontiguousarray(array)
    return hashlib.sha256(str((a.dtype.str, a.shape)).encode() + a.tobytes()).hexdigest()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train", type=int, default=6000, help="Conv1 STDP training images")
    ap.add_argument("--svm-train", type=int, default=10000, help="LinearSVC training images")
    ap.add_argument("--test", type=int, default=10000, help="test images")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import numpy as np
    from sklearn.svm import LinearSVC

    import spykeflow
    from spykeflow import datasets

    x_train, y_train = datasets.load("mnist", "train")
    x_test, y_test = datasets.load("mnist", "test")
    encoder = spykeflow.InputLayer()
    n_fit = max(args.train, args.svm_train)
    s_train = encoder.transform(x_train[:n_fit])
    s_test = encoder.transform(x_test[: args.test])
    t0 = time.perf_counter()
    net = spykeflow.Network.preset("mnist_conv1", seed=args.seed, progress=False)
    net.fit(s_train[: args.train])
    fit_s = time.perf_counter() - t0
    f_train = net.transform(s_train[: args.svm_train])
    f_test = net.transform(s_test)
    svm = LinearSVC(C=0.01, max_iter=5000, random_state=args.seed)
    svm.fit(f_train, y_train[: args.svm_train])
    out = {
        "spykeflow_version": spykeflow.__version__,
        "seed": args.seed,
        "stdp_images": args.train,
        "conv1_weights_sha256": _sha(net.weights_[0]),
        "train_features_sha256": _sha(f_train),
        "test_features_sha256": _sha(f_test),
        "features_shape": list(f_train.shape),
        "features_dtype": str(f_train.dtype),
        "active_features_per_image": float(f_test.sum(1).mean()),
        "linear_svc_test_accuracy": float(np.mean(svm.predict(f_test) == y_test[: args.test])),
        "conv1_fit_s": round(fit_s, 2),
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
