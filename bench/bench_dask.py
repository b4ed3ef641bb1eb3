"""Benchmark of encoding + Pool1 feature extraction on Dask (spykeflow.dask.extract_features).

MNIST, train then test (70,000 images by default), through ``InputLayer.transform`` ->
``Network.transform`` (the ``mnist`` pipeline's Conv1 preset, STDP-trained on
``--stdp-images`` training images with seed 0, or loaded with ``--network PATH``):

* ``single``: one process, no Dask, ``n_jobs=1``, pinned to one core, in chunks of
  ``--chunk`` images;
* ``dask_<w>``: :func:`spykeflow.dask.local_cluster` with ``w`` worker processes (1 thread
  each, each pinned to its own core) writing the Zarr feature store, for each ``w`` in
  ``--workers``;
* ``dask_1_dask_default_env``: the same with one worker of a plain ``LocalCluster`` (Dask's
  default worker environment, which sets ``MALLOC_TRIM_THRESHOLD_``).

Prints one JSON object (and writes it to ``--out``): images/s per setting, scaling efficiency
(speed / (workers x the 1-worker speed)), peak RSS per worker (``VmHWM``, see
``_peak_rss_mb``, on each worker via ``client.run``) and of the single process, the store's
size on disk, whether the store's features equal the single process's bit for bit, chunk
size, load average before/after, CPU count. Every measurement runs in a fresh child process
(the Network is trained once, saved, and loaded by each child); with ``--repeats R`` the
settings run in R interleaved rounds and each reports its median run (and all speeds). Each
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


def _pin_all_threads(core):
    """Pin every thread of this process to ``core`` (``sched_setaffinity`` of one thread id
    covers only that thread; threads started later inherit it from their creator)."""
    for tid in os.listdir("/proc/self/task"):
        os.sched_setaffinity(int(tid), [core])
    return core


def datasets_of(root, n):
    """``[(split, lazy dataset)]``: train then test, ``n`` images in all."""
    from spykeflow import datasets

    parts, left = [], n
    for split in ("train", "test"):
        if left <= 0:
            break
        ds = datasets.open("mnist", split, root)
        parts.append((split, ds[:min(left, len(ds))]))
        left -= len(parts[-1][1])
    return parts


def train_network(stdp_images, root, encoder):
    from spykeflow import Network, datasets

    x, _ = datasets.open("mnist", "train", root)[:stdp_images].read()
    net = Network.preset("mnist_conv1", seed=0, progress=False, n_jobs=1)
    conv, pool = net.layers
    net.set_params(layers=[conv.replace(n_images=stdp_images), pool])
    return net.fit(encoder.transform(x))


def single(parts, encoder, net, chunk, reference):
    """One process pinned to one core (pinned at start: all its threads), no Dask; writes the
    packed features to ``reference``."""
    out, n = [], 0
    net.transform(encoder.transform(parts[0][1][0:chunk].read()[0]))  # warm-up
    t0 = time.perf_counter()
    for _, ds in parts:
        for a in range(0, len(ds), chunk):
            x, _ = ds[a:a + chunk].read()
            out.append(np.packbits(net.transform(encoder.transform(x)), axis=1))
            n += len(x)
    seconds = time.perf_counter() - t0
    np.save(reference, np.concatenate(out))
    return {"images_per_s": round(n / seconds, 1), "seconds": round(seconds, 2),
            "peak_rss_mb": _peak_rss_mb()}


def _du(path):
    return sum(p.stat().st_size for p in pathlib.Path(path).rglob("*") if p.is_file())


def on_cluster(parts, encoder, net, chunk, workers, reference, scratch, dask_env=False):
    """``workers`` worker processes of :func:`spykeflow.dask.local_cluster` (``dask_env``:
    a plain LocalCluster, Dask's default worker environment), each pinned to its own core,
    writing the store."""
    from distributed import Client, LocalCluster

    from spykeflow.dask import extract_features, local_cluster, open_features

    cores = _cpus()
    load_before = _load_avg()
    cluster = (LocalCluster(n_workers=workers, threads_per_worker=1, host="127.0.0.1",
                            dashboard_address=None) if dask_env else local_cluster(workers))
    with cluster, Client(cluster) as client:
        for k, addr in enumerate(sorted(client.scheduler_info()["workers"])):
            client.run(_pin_all_threads, cores[k % len(cores)], workers=[addr])
        extract_features(parts[0][1][:chunk], encoder, net, scratch / "warm.zarr", chunk,
                         client=client, progress=False)
        store = scratch / "features.zarr"
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
            "store_bytes": _du(store),
            "identical_to_single": bool(np.array_equal(got, np.load(reference))),
            "load_average_before": load_before, "load_average_after": _load_avg()}


def child(args):
    """One measurement (``--child SETTING``) in this fresh process; prints its JSON."""
    import spykeflow

    if args.child == "single" and hasattr(os, "sched_setaffinity"):
        _pin_all_threads(_cpus()[0])
    encoder = spykeflow.InputLayer(progress=False, n_jobs=1)
    net = spykeflow.Network.load(args.network).set_params(progress=False, n_jobs=1)
    parts = datasets_of(args.data_root, args.n)
    if args.child == "single":
        result = single(parts, encoder, net, args.chunk, args.reference)
    else:
        workers, dask_env = setting_of(args.child)
        scratch = pathlib.Path(tempfile.mkdtemp(prefix="bench_dask_"))
        try:
            result = on_cluster(parts, encoder, net, args.chunk, workers, args.reference,
                                scratch, dask_env)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    print(json.dumps(result))
    return 0


def setting_of(name):
    """``dask_<w>`` -> (w, False); ``dask_1_dask_default_env`` -> (1, True)."""
    if name == "dask_1_dask_default_env":
        return 1, True
    return int(name.removeprefix("dask_")), False


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=70000, help="images (train, then test)")
    parser.add_argument("--chunk", type=int, default=1000, help="images per task / zarr chunk")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--stdp-images", type=int, default=3000)
    parser.add_argument("--network", default=None, help="a saved Network (skips training)")
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--repeats", type=int, default=1,
                        help="rounds of all settings, interleaved; medians are reported")
    parser.add_argument("--out", default=None, help="also write the JSON here")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--reference", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args)

    import subprocess

    import dask
    import distributed
    import zarr

    import spykeflow
    from spykeflow import io

    tmp = pathlib.Path(tempfile.mkdtemp(prefix="bench_dask_main_"))
    encoder = spykeflow.InputLayer(progress=False, n_jobs=1)
    t0 = time.perf_counter()
    net = (spykeflow.Network.load(args.network) if args.network
           else train_network(args.stdp_images, args.data_root, encoder))
    train_s = time.perf_counter() - t0
    net_path = str(net.save(tmp / "network"))
    parts = datasets_of(args.data_root, args.n)
    report = {"benchmark": "dask_extract", "images": sum(len(ds) for _, ds in parts),
              "chunk_size": args.chunk,
              "network": args.network or f"mnist_conv1, STDP on {args.stdp_images} images",
              "network_seconds": round(train_s, 1), "n_features": int(net.transform(
                  encoder.transform(parts[0][1][0:1].read()[0])).shape[1]),
              "cpu_count": os.cpu_count(), "cpus_allowed": len(_cpus()),
              "load_average_before": _load_avg(), "python": platform.python_version(),
              "versions": {"spykeflow": spykeflow.__version__, "dask": dask.__version__,
                           "distributed": distributed.__version__, "zarr": zarr.__version__}}
    # the 1-worker run with Dask's default worker environment (MALLOC_TRIM_THRESHOLD_ set: see
    # spykeflow.dask._cluster.WORKER_ENV) comes last
    names = ["single", *[f"dask_{w}" for w in args.workers], "dask_1_dask_default_env"]
    runs: dict = {name: [] for name in names}
    base = [sys.executable, os.path.abspath(__file__), "--network", net_path, "--n",
            str(args.n), "--chunk", str(args.chunk), "--reference", str(tmp / "ref.npy")]
    if args.data_root:
        base += ["--data-root", args.data_root]
    try:
        for _ in range(args.repeats):  # rounds interleave the settings (a noisy machine)
            for name in names:
                done = subprocess.run([*base, "--child", name], check=True,
                                      capture_output=True, text=True)
                runs[name].append(json.loads(done.stdout.strip().splitlines()[-1]))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for name, results in runs.items():  # the median run (by speed) of each setting
        speeds = [r["images_per_s"] for r in results]
        report[name] = {**sorted(results, key=lambda r: r["images_per_s"])[len(results) // 2],
                        "images_per_s_runs": speeds}
    one = report["dask_1"]["images_per_s"] if "dask_1" in report else None
    for name in names[1:]:
        r = report[name]
        r["speedup_vs_single"] = round(r["images_per_s"] / report["single"]["images_per_s"], 3)
        if one:
            r["scaling_efficiency"] = round(r["images_per_s"] / (r["workers"] * one), 3)
    report["load_average_after"] = _load_avg()
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        io.write_text_atomic(args.out, text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
