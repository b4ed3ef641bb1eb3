"""Kill a Dask worker in the middle of ``spykeflow.dask.extract_features`` and report what
happened (JSON): a LocalCluster of 2 workers (``spykeflow.dask.local_cluster``) extracts the
MNIST Pool1 features of ``--n`` training images in chunks of ``--chunk``; once ``--kill-after``
chunks are committed, the worker that is processing a task gets SIGKILL. Reported: the chunks
committed at the kill, the killed task(s), the replacement worker, how many times each chunk
was committed (every count must be 1), whether the store equals the single-process features
bit for bit, and the run time against an uninterrupted run on the same cluster.

The test suite checks the same on 480 images (tests/dask/test_store.py); this script shows it
at a larger scale. Run from the repository root with ``$SPYKEFLOW_DATA`` set::

    python bench/dask_kill_worker.py --n 20000
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import pathlib
import shutil
import signal
import sys
import tempfile
import threading
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from bench_dask import train_network  # noqa: E402


def _commits(store):
    import zarr

    try:
        return zarr.open_group(store, mode="r")["done"][:, 1].astype(int).tolist()
    except Exception:  # the store is not created yet
        return []


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=20000, help="MNIST training images")
    parser.add_argument("--chunk", type=int, default=1000)
    parser.add_argument("--kill-after", type=int, default=5, help="committed chunks")
    parser.add_argument("--stdp-images", type=int, default=1000)
    parser.add_argument("--data-root", default=None)
    args = parser.parse_args(argv)

    from distributed import Client

    import spykeflow
    from spykeflow import datasets
    from spykeflow.dask import extract_features, local_cluster, open_features

    encoder = spykeflow.InputLayer(progress=False, n_jobs=1)
    net = train_network(args.stdp_images, args.data_root, encoder)
    ds = datasets.open("mnist", "train", args.data_root)[:args.n]
    x, _ = ds.read()
    reference = net.transform(encoder.transform(x))
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="dask_kill_"))
    report: dict = {"images": len(ds), "chunk_size": args.chunk,
                    "n_chunks": -(-len(ds) // args.chunk), "workers": 2,
                    "load_average_before": [round(v, 2) for v in os.getloadavg()]}
    try:
        with local_cluster(2) as cluster, Client(cluster) as client:
            extract_features(ds[:args.chunk], encoder, net, tmp / "warm.zarr", args.chunk,
                             client=client, progress=False)
            t0 = time.perf_counter()
            extract_features(ds, encoder, net, tmp / "clean.zarr", args.chunk, client=client,
                             progress=False)
            report["seconds_uninterrupted"] = round(time.perf_counter() - t0, 2)

            store = tmp / "killed.zarr"
            pids = client.run(os.getpid)
            result, errors = {}, []

            def run():
                try:
                    result.update(extract_features(ds, encoder, net, store, args.chunk,
                                                   client=client, progress=False))
                except Exception as err:  # reported below
                    errors.append(repr(err))

            t0 = time.perf_counter()
            thread = threading.Thread(target=run)
            thread.start()
            while thread.is_alive() and "killed_pid" not in report:
                time.sleep(0.02)
                if sum(c > 0 for c in _commits(store)) < args.kill_after:
                    continue
                busy = {w: keys for w, keys in client.processing().items() if keys and w in pids}
                if busy:
                    victim = sorted(busy)[0]
                    report["committed_at_kill"] = sum(c > 0 for c in _commits(store))
                    report["tasks_on_killed_worker"] = [str(k) for k in busy[victim]]
                    os.kill(pids[victim], signal.SIGKILL)
                    report["killed_pid"] = pids[victim]
                    report["killed_after_s"] = round(time.perf_counter() - t0, 2)
            thread.join()
            report["seconds_with_kill"] = round(time.perf_counter() - t0, 2)
            report["errors"] = errors
            report["worker_pids_after"] = sorted(client.run(os.getpid).values())
            report["killed_worker_replaced"] = report.get("killed_pid") not in \
                report["worker_pids_after"]
        commits = _commits(store)
        report["chunks_computed"] = len(result.get("computed", []))
        # tasks whose final run found their chunk already committed (a finished task lost
        # with the killed worker and rerun by the scheduler skips writing)
        report["tasks_skipped"] = result.get("skipped")
        report["commits_per_chunk"] = dict(collections.Counter(commits))
        got, _ = open_features(store)
        report["identical_to_single_process"] = bool(np.array_equal(got, reference))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    report["load_average_after"] = [round(v, 2) for v in os.getloadavg()]
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
