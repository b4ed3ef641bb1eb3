"""Benchmark of encoding + Pool1 feature extraction on Dask (spykeflow.dask.extract_features).

MNIST, train then test (70,000 images by default), through ``InputLayer.transform`` ->
``Network.transform`` (the ``mnist`` pipeline's Conv1 preset, STDP-trained on
``--stdp-images`` training images with seed 0, or loaded with ``--network PATH``):

* ``single``: one process, no Dask, ``n_jobs=1``, pinned to one core, in chunks;
* ``dask_<w>``: a LocalCluster of ``w`` worker processes (1 thread each, each pinned to its
  own core) writing the Zarr feature store, for each ``w`` in ``--workers``.

Prints one JSON object (and writes it to ``--out``): images/s per setting, scaling efficiency
(speed / (workers x the 1-worker speed)), peak RSS per worker (``VmHWM``, see
``_peak_rss_mb``, on each worker via ``client.run``) and of the single process, the store's
size on disk, whether the store's features equal the single process's bit for bit, chunk
size, load average before/after, CPU count. Each
cluster first runs one chunk into a scratch store (worker start-up, Numba cache loading) that
is not timed. Not a test: nothing is asserted. Run from the repository root::

    python bench/bench_dask.py                          # 70,000 images (~minutes per setting)
    python bench/bench_dask.py --n 2000 --out bench/results/dask_smoke.json
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import resource
import shutil
import sys
import tempfile
import time

import numpy as np

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


class ArrayDataset:
    """The lazy-dataset interface over arrays in memory (until ``datasets.open`` exists)."""

    def __init__(self, samples, labels, name, split):
        self.samples, self.labels = samples, np.asarray(labels, np.int64)
        self.name, self.split = name, split

    def __len__(self):
        return len(self.samples)

    def __getitem__(self, index):
        return ArrayDataset(self.samples[index], self.labels[index], self.name, self.split)

    def read(self):
        return self.samples, self.labels


def _load_avg():
    return [round(v, 2) for v in os.getloadavg()]


def _cpus():
    return sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else list(
        range(os.cpu_count() or 1))


def _peak_rss_mb():
    """This process's peak resident memory: ``VmHWM`` of /proc/self/status on Linux (a
    worker's own peak: ``getrusage``'s ``ru_maxrss`` survives fork and exec, so a worker
    started from a big parent reports the parent's peak), else ``getrusage``."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _pin_to(core):
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, [core])
    return core


def datasets_of(root, n):
    """``[(split, lazy dataset)]``: train then test, ``n`` images in all."""
    from spykeflow import datasets

    parts, left = [], n
    for split in ("train", "test"):
        if left <= 0:
            break
        if hasattr(datasets, "open"):
            ds = datasets.open("mnist", split, root)
        else:
            ds = ArrayDataset(*datasets.load("mnist", split, root=root), "mnist", split)
        parts.append((split, ds[:min(left, len(ds))]))
        left -= len(parts[-1][1])
    return parts


def network(args, encoder):
    from spykeflow import Network, datasets

    if args.network:
        return Network.load(args.network).set_params(progress=False, n_jobs=1)
    x, _ = datasets.load("mnist", "train", root=args.data_root)
    net = Network.preset("mnist_conv1", seed=0, progress=False, n_jobs=1)
    conv, pool = net.layers
    net.set_params(layers=[conv.replace(n_images=args.stdp_images), pool])
    return net.fit(encoder.transform(x[:args.stdp_images]))


def single(parts, encoder, net, chunk):
    """One process, one core, no Dask: packed features and images/s."""
    cores = _cpus()
    _pin_to(cores[0])
    try:
        out, n = [], 0
        net.transform(encoder.transform(parts[0][1][0:chunk].read()[0]))  # warm-up
        t0 = time.perf_counter()
        for _, ds in parts:
            for a in range(0, len(ds), chunk):
                x, _ = ds[a:a + chunk].read()
                out.append(np.packbits(net.transform(encoder.transform(x)), axis=1))
                n += len(x)
        seconds = time.perf_counter() - t0
    finally:
        if hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, cores)
    return np.concatenate(out), {"images_per_s": round(n / seconds, 1),
                                 "seconds": round(seconds, 2), "peak_rss_mb": _peak_rss_mb()}


def _du(path):
    return sum(p.stat().st_size for p in pathlib.Path(path).rglob("*") if p.is_file())


def on_cluster(parts, encoder, net, chunk, workers, reference, scratch):
    from distributed import Client, LocalCluster

    from spykeflow.dask import extract_features, open_features

    cores = _cpus()
    load_before = _load_avg()
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      host="127.0.0.1", dashboard_address=None) as cluster, \
            Client(cluster) as client:
        for k, addr in enumerate(sorted(client.scheduler_info()["workers"])):
            client.run(_pin_to, cores[k % len(cores)], workers=[addr])
        warm = scratch / f"warm{workers}.zarr"
        extract_features(parts[0][1][:chunk], encoder, net, warm, chunk, client=client,
                         progress=False)
        store = scratch / f"features{workers}.zarr"
        t0 = time.perf_counter()
        for split, ds in parts:
            extract_features(ds, encoder, net, store, chunk, group=split, client=client,
                             progress=False)
        seconds = time.perf_counter() - t0
        rss = client.run(_peak_rss_mb)
    got = np.concatenate([np.packbits(open_features(store, group=split)[0], axis=1)
                          for split, _ in parts])
    n = sum(len(ds) for _, ds in parts)
    return {"workers": workers, "threads_per_worker": 1, "images_per_s": round(n / seconds, 1),
            "seconds": round(seconds, 2), "peak_rss_mb_per_worker": sorted(rss.values()),
            "store_bytes": _du(store), "identical_to_single": bool(np.array_equal(got,
                                                                                   reference)),
            "load_average_before": load_before, "load_average_after": _load_avg()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=70000, help="images (train, then test)")
    parser.add_argument("--chunk", type=int, default=1000, help="images per task / zarr chunk")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--stdp-images", type=int, default=3000)
    parser.add_argument("--network", default=None, help="a saved Network (skips training)")
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--out", default=None, help="also write the JSON here")
    args = parser.parse_args(argv)

    import dask
    import distributed
    import zarr

    import spykeflow
    from spykeflow import io

    encoder = spykeflow.InputLayer(progress=False, n_jobs=1)
    t0 = time.perf_counter()
    net = network(args, encoder)
    train_s = time.perf_counter() - t0
    parts = datasets_of(args.data_root, args.n)
    n = sum(len(ds) for _, ds in parts)
    report = {"benchmark": "dask_extract", "images": n, "chunk_size": args.chunk,
              "network": args.network or f"mnist_conv1, STDP on {args.stdp_images} images",
              "network_seconds": round(train_s, 1), "n_features": int(net.transform(
                  encoder.transform(parts[0][1][0:1].read()[0])).shape[1]),
              "cpu_count": os.cpu_count(), "cpus_allowed": len(_cpus()),
              "load_average_before": _load_avg(), "python": platform.python_version(),
              "versions": {"spykeflow": spykeflow.__version__, "dask": dask.__version__,
                           "distributed": distributed.__version__, "zarr": zarr.__version__}}
    reference, report["single"] = single(parts, encoder, net, args.chunk)
    scratch = pathlib.Path(tempfile.mkdtemp(prefix="bench_dask_"))
    try:
        for w in args.workers:
            report[f"dask_{w}"] = on_cluster(parts, encoder, net, args.chunk, w, reference,
                                             scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    one = report.get("dask_1", {}).get("images_per_s")
    for w in args.workers:
        r = report[f"dask_{w}"]
        r["speedup_vs_single"] = round(r["images_per_s"] / report["single"]["images_per_s"], 3)
        if one:
            r["scaling_efficiency"] = round(r["images_per_s"] / (w * one), 3)
    report["load_average_after"] = _load_avg()
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        io.write_text_atomic(args.out, text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
