"""Benchmark of InputLayer encoding on the 60,000 MNIST training images (published setting).

Prints one JSON object: throughput in images/s (median of ``--repeats`` runs) for the compact
first-spike form and for the dense bool spike tensor, with ``n_jobs`` threads, CPU time per
image, peak RSS of each measurement (each runs in a fresh subprocess), the load average around
the runs (the machine is shared), and the spike statistics (ON/OFF per image, per time step).

    python bench/bench_encoding.py [--root DATA] [--n 60000] [--repeats 3] [--jobs 1 2]

Not a test: nothing is asserted. On a shared machine the wall-clock numbers depend on the load
(reported); ``cpu_us_per_image`` is the process CPU time per image and is less sensitive to it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time


def _measure(args):
    """One configuration, in this (fresh) process; prints a JSON line."""
    from spykeflow import InputLayer, datasets

    x, _ = datasets.load("mnist", split="train", root=args.root)
    x = x[: args.n]
    layer = InputLayer(n_jobs=args.n_jobs)
    fn = layer.transform_compact if args.mode == "compact" else layer.transform
    fn(x[:512])  # warm-up: imports, operator caches
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    wall, cpu = [], []
    out = None
    for _ in range(args.repeats):
        out = None
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn(x)
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    result = {
        "mode": args.mode,
        "n_jobs": args.n_jobs,
        "images": int(len(x)),
        "images_per_s_median": round(len(x) / statistics.median(wall), 1),
        "images_per_s_runs": [round(len(x) / w, 1) for w in wall],
        "cpu_us_per_image_median": round(statistics.median(cpu) / len(x) * 1e6, 2),
        "output_bytes": int(out.nbytes),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "rss_before_runs_mb": round(rss_before / 1024, 1),
    }
    if args.mode == "compact":
        first = out
        on = float((first[..., 0] >= 0).sum()) / len(x)
        off = float((first[..., 1] >= 0).sum()) / len(x)
        per_step = [float((first == t).sum()) / len(x) for t in range(layer.time_steps)]
        per_step_on = [float((first[..., 0] == t).sum()) / len(x) for t in range(layer.time_steps)]
        result["spikes"] = {
            "on_per_image": round(on, 3),
            "off_per_image": round(off, 3),
            "per_step_on_plus_off": [round(v, 3) for v in per_step],
            "per_step_on": [round(v, 3) for v in per_step_on],
        }
    print(json.dumps(result))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--root", default=None, help="data root (default $SPYKEFLOW_DATA)")
    p.add_argument("--n", type=int, default=60000)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    p.add_argument("--modes", nargs="+", default=["compact", "dense"])
    p.add_argument("--mode", help=argparse.SUPPRESS)
    p.add_argument("--n-jobs", type=int, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.mode:
        _measure(args)
        return
    runs = []
    load_before = os.getloadavg()
    for mode in args.modes:
        for jobs in args.jobs:
            cmd = [sys.executable, __file__, "--mode", mode, "--n-jobs", str(jobs),
                   "--n", str(args.n), "--repeats", str(args.repeats)]
            if args.root:
                cmd += ["--root", args.root]
            res = subprocess.run(cmd, capture_output=True, text=True, check=True,
                                 env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
            runs.append(json.loads(res.stdout.strip().splitlines()[-1]))
    spikes = next((r.pop("spikes") for r in runs if "spikes" in r), None)
    for r in runs:
        r.pop("spikes", None)
    report = {
        "benchmark": "InputLayer encoding, MNIST train, published setting (27x27, DoG 50/50, "
                     "17x17 normalisation, 10 rank bins + 2 empty)",
        "runs": runs,
        "spike_statistics": spikes,
        "reference": {"original_images_per_s": 4000, "target_images_per_s": 10000,
                      "spikes_per_image": "about 101.6 ON + 160.0 OFF, ~26 per step in bins 0-9"},
        "cpus": os.cpu_count(),
        "load_average_before": [round(v, 2) for v in load_before],
        "load_average_after": [round(v, 2) for v in os.getloadavg()],
        "python": platform.python_version(),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
