"""Benchmark of the STDP Network (published MNIST Conv1 setting: 30 filters 5x5, threshold 15,
11x11 competition, T = 12). Prints JSON: Conv1 STDP training and Pool1 feature extraction in
images/s (wall clock and per CPU-second), the warm-up (compile) time, and peak RSS.

    python bench/bench_network.py --train 2000 --extract 5000

Uses real MNIST spikes (InputLayer) when the data root is available, otherwise random spikes
with MNIST-like statistics (~100 ON + 160 OFF spikes in 10 equal-count bins). Timings exclude
encoding. Numbers depend on machine load: report them with the load.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import time

import numpy as np


def mnist_like(n, seed=0):
    rng = np.random.default_rng(seed)
    s = np.zeros((n, 12, 27, 27, 2), bool)
    for i in range(n):
        for ch, cnt in ((0, 100), (1, 160)):
            flat = rng.choice(23 * 23, size=cnt, replace=False)
            r, c = flat // 23 + 2, flat % 23 + 2
            b = (10 * (np.arange(cnt) + 1) - 1) // cnt
            s[i, b, r, c, ch] = True
    return s


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", type=int, default=2000, help="Conv1 training images per repeat")
    ap.add_argument("--extract", type=int, default=5000, help="images for feature extraction")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--synthetic", action="store_true", help="random spikes even if MNIST exists")
    ap.add_argument("--variant", default="per_step", choices=["per_step", "end_of_image"])
    ap.add_argument("--batch-size", type=int, default=256, help="inference batch size")
    args = ap.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from spykeflow import Network

    n = max(args.train, args.extract)
    source = "synthetic"
    spikes = None
    if not args.synthetic:
        try:
            from spykeflow import InputLayer, datasets

            x, _ = datasets.load("mnist", "train")
            spikes = InputLayer().fit().transform(x[:n])
            source = "mnist"
        except Exception:  # noqa: BLE001 - fall back to synthetic data
            spikes = None
    if spikes is None:
        spikes = mnist_like(n)

    def make(n_images):
        net = Network.preset("mnist_conv1", progress=False, batch_size=args.batch_size)
        conv, pool = net.layers
        return net.set_params(layers=[conv.replace(n_images=n_images, stdp_update=args.variant),
                                      pool])

    # warm-up: compiles (or loads from Numba's cache) the training loop and the inference pass
    t0, c0 = time.perf_counter(), time.process_time()
    warm = make(600)
    warm.fit(spikes[:600])
    warm.transform(spikes[:256])
    compile_wall, compile_cpu = time.perf_counter() - t0, time.process_time() - c0

    train_wall, train_cpu, ext_wall, ext_cpu = [], [], [], []
    for _ in range(args.repeats):
        net = make(args.train)
        t0, c0 = time.perf_counter(), time.process_time()
        net.fit(spikes[:args.train])
        train_wall.append(args.train / (time.perf_counter() - t0))
        train_cpu.append(args.train / (time.process_time() - c0))
        t0, c0 = time.perf_counter(), time.process_time()
        f = net.transform(spikes[:args.extract])
        ext_wall.append(args.extract / (time.perf_counter() - t0))
        ext_cpu.append(args.extract / (time.process_time() - c0))
    h = net.history_["layers"][0]
    out = {
        "source": source,
        "train_images": args.train,
        "extract_images": args.extract,
        "variant": args.variant,
        "conv1_train_images_per_s_wall_median": statistics.median(train_wall),
        "conv1_train_images_per_cpu_s_median": statistics.median(train_cpu),
        "pool1_extract_images_per_s_wall_median": statistics.median(ext_wall),
        "pool1_extract_images_per_cpu_s_median": statistics.median(ext_cpu),
        "repeats": {"train_wall": train_wall, "extract_wall": ext_wall},
        "warmup_wall_s": compile_wall,
        "warmup_cpu_s": compile_cpu,
        "winners_per_image": float(np.mean(h["winners_per_image"])),
        "pool1_binary_spikes_per_image": float(f.sum() / len(f)),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "load_average_1min": os.getloadavg()[0],
        "cpus": os.cpu_count(),
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
