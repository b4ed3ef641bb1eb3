"""Benchmark of the STDP Network (published MNIST Conv1 setting: 30 filters 5x5, threshold 15,
11x11 competition, T = 12). Prints one JSON object:

* ``train``: Conv1 STDP training, images/s (one thread: training is sequential);
* ``extract``: Pool1 feature extraction (``Network.transform``), images/s for 1, 2, 4, ...
  threads up to all CPUs, each in a fresh process pinned to that many cores with
  ``n_jobs`` = that many (speed-up and efficiency against one thread);
* ``stream``: the pipelines' streamed extraction, grey images -> ``InputLayer.transform`` ->
  ``Network.transform`` in chunks of 2000, images/s per thread count;
* ``compile``: the first call's cost in a fresh process with an empty Numba cache, and in
  a second process that finds the cache filled (import, first ``fit``, first
  ``transform``; cache hits/misses);
* ``dense``: the ``keras.ops`` path (``Network(device="gpu")``): on the CPU for reference
  (a few batches) and on the GPU when the Keras backend sees one, with ``identical``: its
  features equal the Numba path's bit for bit.

Run from the repository root (one command; ~10 min on a 2-core machine with the defaults)::

    python bench/bench_network.py
    python bench/bench_network.py --train 2000 --extract 20000 --repeats 3 --gpu-batch 1024

Uses real MNIST spikes (InputLayer) when the data root is available, otherwise random spikes
with MNIST-like statistics (~100 ON + 160 OFF spikes in 10 equal-count bins). Timings exclude
encoding except in ``stream``. Numbers depend on machine load: every measurement carries the
1-minute load average at its start and end, and ``cpus`` says how many cores the process may
use. Not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent


def mnist_like(n, seed=0):
    """Compact first-spike form (n, 27, 27, 2) int8 with MNIST-like statistics."""
    rng = np.random.default_rng(seed)
    first = np.full((n, 27, 27, 2), -1, np.int8)
    for i in range(n):
        for ch, cnt in ((0, 100), (1, 160)):
            flat = rng.choice(23 * 23, size=cnt, replace=False)
            r, c = flat // 23 + 2, flat % 23 + 2
            first[i, r, c, ch] = (10 * (np.arange(cnt) + 1) - 1) // cnt
    return first


def _load():
    return round(os.getloadavg()[0], 2)


def _cpus():
    return sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else list(
        range(os.cpu_count() or 1))


def _pin(threads):
    """Pin this process to its first ``threads`` allowed cores (before Numba starts its
    threads); returns the cores."""
    cores = _cpus()[:threads]
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, cores)
    return cores


def _make_network(n_images, batch_size, n_jobs=1, device="cpu"):
    from spykeflow import Network

    net = Network.preset("mnist_conv1", progress=False, batch_size=batch_size, n_jobs=n_jobs,
                         device=device)
    conv, pool = net.layers
    return net.set_params(layers=[conv.replace(n_images=n_images), pool])


# ------------------------------------------------------------------------------- workers
def worker_train(args):
    _pin(1)
    from spykeflow import InputLayer

    spikes = InputLayer().expand(np.load(args.data)[:args.train])
    _make_network(200, args.batch_size).fit(spikes[:200])            # warm-up
    wall, cpu = [], []
    load0 = _load()
    for _ in range(args.repeats):
        net = _make_network(args.train, args.batch_size)
        t0, c0 = time.perf_counter(), time.process_time()
        net.fit(spikes)
        wall.append(args.train / (time.perf_counter() - t0))
        cpu.append(args.train / (time.process_time() - c0))
    h = net.history_["layers"][0]
    return {"images": args.train, "threads": 1,
            "images_per_s_median": round(statistics.median(wall), 1),
            "images_per_s_runs": [round(v, 1) for v in wall],
            "images_per_cpu_s_median": round(statistics.median(cpu), 1),
            "winners_per_image": round(float(np.mean(h["winners_per_image"])), 3),
            "load_start": load0, "load_end": _load()}


def worker_extract(args):
    cores = _pin(args.threads)
    from spykeflow import InputLayer, Network

    spikes = InputLayer().expand(np.load(args.data)[:args.extract])
    net = Network.load(args.network).set_params(progress=False, n_jobs=args.threads,
                                                batch_size=args.batch_size)
    net.transform(spikes[:args.batch_size])                            # warm-up
    wall, cpu = [], []
    load0 = _load()
    f = None
    for _ in range(args.repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        f = net.transform(spikes)
        wall.append(len(spikes) / (time.perf_counter() - t0))
        cpu.append(len(spikes) / (time.process_time() - c0))
    return {"threads": args.threads, "cores": cores, "images": len(spikes),
            "images_per_s_median": round(statistics.median(wall), 1),
            "images_per_s_runs": [round(v, 1) for v in wall],
            "images_per_cpu_s_median": round(statistics.median(cpu), 1),
            "pool1_binary_spikes_per_image": round(float(f.sum() / len(f)), 2),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "load_start": load0, "load_end": _load()}


def worker_stream(args):
    cores = _pin(args.threads)
    from spykeflow import InputLayer, Network, datasets

    images, _ = datasets.load("mnist", "train")
    images = images[:args.stream]
    encoder = InputLayer(n_jobs=args.threads)
    net = Network.load(args.network).set_params(progress=False, n_jobs=args.threads,
                                                batch_size=args.batch_size)
    net.transform(encoder.transform(images[:256]))                     # warm-up
    wall = []
    load0 = _load()
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        for s in range(0, len(images), 2000):                          # as main/stdp_images.py
            net.transform(encoder.transform(images[s:s + 2000]))
        wall.append(len(images) / (time.perf_counter() - t0))
    return {"threads": args.threads, "cores": cores, "images": len(images),
            "images_per_s_median": round(statistics.median(wall), 1),
            "images_per_s_runs": [round(v, 1) for v in wall],
            "load_start": load0, "load_end": _load()}


def worker_compile(args):
    """First calls in this process (the parent sets NUMBA_CACHE_DIR)."""
    t0 = time.perf_counter()
    import numba  # noqa: F401
    from numba.core.registry import CPUDispatcher

    import spykeflow
    from spykeflow import InputLayer
    t_import = time.perf_counter() - t0
    spikes = InputLayer().expand(np.load(args.data)[:64])
    net = _make_network(32, 32)
    t0 = time.perf_counter()
    net.fit(spikes[:32])
    t_fit = time.perf_counter() - t0
    t0 = time.perf_counter()
    net.set_params(n_jobs=-1).transform(spikes)
    t_transform = time.perf_counter() - t0
    hits = misses = 0
    for name, module in list(sys.modules.items()):
        if name.startswith("spykeflow"):
            for obj in vars(module).values():
                if isinstance(obj, CPUDispatcher) and obj.__module__ == name:
                    hits += sum(obj.stats.cache_hits.values())
                    misses += sum(obj.stats.cache_misses.values())
    return {"import_s": round(t_import, 3), "first_fit_s": round(t_fit, 3),
            "first_transform_s": round(t_transform, 3),
            "numba_cache_hits": hits, "numba_cache_misses": misses,
            "spykeflow": spykeflow.__version__, "load_end": _load()}


def worker_dense(args):
    """The keras.ops path on the CPU (reference) or the GPU, against the Numba path."""
    import keras

    from spykeflow import InputLayer, Network, _backend, _dense

    spikes = InputLayer().expand(np.load(args.data)[:args.dense_images])
    gpu = _dense.gpu_device() if args.device == "gpu" else None
    out = {"backend": keras.backend.backend(), "device": args.device,
           "batch_size": args.gpu_batch}
    if args.device == "gpu" and gpu is None:
        return {**out, "skipped": f"the Keras backend {_backend.name()!r} sees no GPU"}
    net = Network.load(args.network).set_params(progress=False, batch_size=args.gpu_batch,
                                                n_jobs=-1)
    reference = net.transform(spikes)
    sets = net._feature_sets(None)
    features = np.empty_like(reference)
    t0 = time.perf_counter()
    _dense.transform_into(net, spikes[:args.gpu_batch], sets, features[:args.gpu_batch],
                          gpu or "cpu:0")                               # compile + warm-up
    compile_s = time.perf_counter() - t0
    wall = []
    load0 = _load()
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        _dense.transform_into(net, spikes, sets, features, gpu or "cpu:0")
        wall.append(len(spikes) / (time.perf_counter() - t0))
    return {**out, "images": len(spikes), "compile_and_first_batch_s": round(compile_s, 2),
            "images_per_s_median": round(statistics.median(wall), 1),
            "images_per_s_runs": [round(v, 1) for v in wall],
            "identical_to_numba": bool(np.array_equal(features, reference)),
            "load_start": load0, "load_end": _load()}


WORKERS = {"train": worker_train, "extract": worker_extract, "stream": worker_stream,
           "compile": worker_compile, "dense": worker_dense}


# -------------------------------------------------------------------------------- driver
def _run_worker(kind, args, extra=(), env=None):
    cmd = [sys.executable, str(pathlib.Path(__file__).resolve()), "--worker", kind,
           "--data", args.data, "--network", args.network, "--train", str(args.train),
           "--extract", str(args.extract), "--stream", str(args.stream),
           "--repeats", str(args.repeats), "--batch-size", str(args.batch_size),
           "--gpu-batch", str(args.gpu_batch), *extra]
    full_env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3",
                "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
                **(env or {})}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=full_env, cwd=str(REPO))
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1:] or ["?"], "returncode":
                proc.returncode}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _thread_counts(given):
    if given:
        return sorted(set(given))
    n = len(_cpus())
    counts, k = [], 1
    while k < n:
        counts.append(k)
        k *= 2
    return counts + [n]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train", type=int, default=2000, help="Conv1 training images")
    ap.add_argument("--extract", type=int, default=20000, help="images for feature extraction")
    ap.add_argument("--stream", type=int, default=10000,
                    help="grey images for the streamed encode+extract measurement")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, nargs="+", default=None,
                    help="thread counts (default 1, 2, 4, ... and all cores)")
    ap.add_argument("--batch-size", type=int, default=256, help="CPU inference batch size")
    ap.add_argument("--gpu-batch", type=int, default=1024, help="batch of the keras.ops path")
    ap.add_argument("--dense-images", type=int, default=None,
                    help="images for the keras.ops path (default: --extract on a GPU, 2 "
                    "batches on the CPU)")
    ap.add_argument("--synthetic", action="store_true", help="random spikes even if MNIST exists")
    ap.add_argument("--skip", nargs="*", default=[], choices=sorted(WORKERS),
                    help="measurements to leave out")
    ap.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    ap.add_argument("--data", help=argparse.SUPPRESS)
    ap.add_argument("--network", help=argparse.SUPPRESS)
    ap.add_argument("--device", default="cpu", help=argparse.SUPPRESS)
    ap.add_argument("--threads-one", dest="threads_one", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        args.threads = args.threads_one
        print(json.dumps(WORKERS[args.worker](args)))
        return

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from spykeflow import InputLayer, datasets

    load_before = os.getloadavg()
    n = max(args.train, args.extract)
    source, first = "synthetic", None
    if not args.synthetic:
        try:
            x, _ = datasets.load("mnist", "train")
            first = InputLayer(n_jobs=-1).transform_compact(x[:n])
            source = "mnist"
        except Exception:  # noqa: BLE001 - fall back to synthetic data
            first = None
    if first is None:
        first = mnist_like(n)
        args.skip = sorted(set(args.skip) | {"stream"})
    report = {"benchmark": "MNIST Conv1 (30 5x5, theta 15) + Pool1: STDP training and "
                           "feature extraction", "source": source, "cpus": len(_cpus()),
              "python": platform.python_version(), "machine": platform.machine(),
              "load_average_before": [round(v, 2) for v in load_before]}
    with tempfile.TemporaryDirectory() as tmp:
        args.data = str(pathlib.Path(tmp) / "spikes.npy")
        np.save(args.data, first)
        args.network = str(pathlib.Path(tmp) / "network")
        net = _make_network(args.train, args.batch_size, n_jobs=-1)
        net.fit(InputLayer().expand(first[:args.train]))
        net.save(args.network)
        threads = _thread_counts(args.threads)
        if "compile" not in args.skip:
            cache = pathlib.Path(tmp) / "numba_cache"
            report["compile"] = {
                name: _run_worker("compile", args, env={"NUMBA_CACHE_DIR": str(cache)})
                for name in ("first_process_empty_cache", "second_process")}
        if "train" not in args.skip:
            report["train"] = _run_worker("train", args)
        for kind in ("extract", "stream"):
            if kind in args.skip:
                continue
            runs = [_run_worker(kind, args, ["--threads-one", str(k)]) for k in threads]
            one = runs[0].get("images_per_s_median") if runs[0].get("threads") == 1 else None
            for r in runs:
                if one and "images_per_s_median" in r:
                    r["speedup_vs_1_thread"] = round(r["images_per_s_median"] / one, 2)
                    r["efficiency"] = round(r["speedup_vs_1_thread"] / r["threads"], 2)
            report[kind] = runs
        if "dense" not in args.skip:
            cpu_images = args.dense_images or 2 * args.gpu_batch
            gpu_images = args.dense_images or args.extract
            report["dense"] = {
                "cpu": _run_worker("dense", args, ["--device", "cpu", "--dense-images",
                                                   str(cpu_images)]),
                "gpu": _run_worker("dense", args, ["--device", "gpu", "--dense-images",
                                                   str(gpu_images)])}
    report["load_average_after"] = [round(v, 2) for v in os.getloadavg()]
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
