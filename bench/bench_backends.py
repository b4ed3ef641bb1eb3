"""Benchmark: the same models trained and run on the TensorFlow, JAX and PyTorch backends.

Three workloads, each built by its ``Classifier`` backend and trained by the Classifier's own
training steps (:func:`spykeflow._steps.make_steps`), inference by the backend's
``predict_logits``:

* ``sts_convsnn`` 48-48 on 10-frame 28x28 clips (20 classes, batch 20; random clips in [0, 1));
* ``convsnn`` (12 filters, 128 hidden, 4-bit QAT, spike-count readout) on N-MNIST event frames
  (``EventEncoder``, 10 bins, 34x34x2; the real N-MNIST subset under ``$SPYKEFLOW_DATA``,
  random frames of the same density when it is absent), batch 32;
* ``binary`` readout (1000 binary hidden units) on MNIST Pool1 features (Conv1 STDP +
  Pool1 of the published setting on real MNIST; synthetic binary features with Pool1
  statistics when MNIST is absent), batch 64.

Every (backend, workload) runs in its own fresh interpreter pinned to ``--threads`` cores (one
by default; ``cpu_per_wall`` in each result checks that the framework kept to them); repeats
are interleaved over the backends (backend A, B, C, A, B, C, ...), and the medians are reported
with the load average. Prints one JSON document: training and inference clips/s (median over
repeats of the median epoch after a warm-up epoch) and the peak RSS of each child process.

With ``--peer snntorch`` the ``sts_convsnn`` workload also runs the identical network built
with snnTorch and trained through ``torch.compile`` (``bench/peer_snntorch.py``; install it
with ``pip install snntorch``, it is not a SpykeFlow dependency), interleaved with the
backends in the same way.

    python bench/bench_backends.py --repeats 3 --peer snntorch
    python bench/bench_backends.py --backends jax torch --workloads sts_convsnn --device gpu
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
import tempfile
from pathlib import Path

import numpy as np
from peer_snntorch import timed

HERE = Path(__file__).resolve().parent
WORKLOADS = {
    "sts_convsnn": {"backend": "sts_convsnn", "params": {"filters": [48, 48], "switch_epoch": 0},
                    "batch": 20, "classes": 20},
    "convsnn": {"backend": "convsnn", "params": {"bits": 4, "readout": "count", "filters": [12],
                                                 "hidden": [128]},
                "batch": 32, "classes": 10},
    "binary": {"backend": "binary", "params": {}, "batch": 64, "classes": 10},
}


# ------------------------------------------------------------------------------ data (parent)
def make_data(workload: str, n: int, folder: Path) -> tuple[Path, str]:
    """Write the workload's inputs to ``folder`` once (shared by every backend)."""
    rng = np.random.default_rng(0)
    source = "synthetic"
    if workload == "sts_convsnn":
        x = rng.random((n, 10, 28, 28), dtype=np.float32)
        y = rng.integers(0, 20, n)
    elif workload == "convsnn":
        try:
            import spykeflow
            from spykeflow import datasets

            events, y = datasets.load("nmnist", "train")
            x = spykeflow.EventEncoder(time_steps=10).transform(events[:n]).astype(np.float32)
            y = np.asarray(y[:n])
            source = "nmnist"
        except (FileNotFoundError, OSError):
            x = (rng.random((n, 10, 34, 34, 2)) < 0.02).astype(np.float32)
            y = rng.integers(0, 10, n)
    else:
        try:
            import spykeflow
            from spykeflow import datasets

            images, y = datasets.load("mnist", "train")
            spikes = spykeflow.InputLayer().transform(images[:n + 2000])
            net = spykeflow.Network.preset("mnist_conv1", seed=0, progress=False)
            net.fit(spikes[:2000])
            x = net.transform(spikes[2000:]).astype(np.float32)
            y = np.asarray(y[2000:n + 2000])
            source = "mnist_pool1"
        except (FileNotFoundError, OSError):
            protos = rng.random((10, 3630)) ** 4
            y = rng.integers(0, 10, n)
            p = protos[y] * (104 / protos[y].sum(axis=1, keepdims=True))
            x = (rng.random((n, 3630)) < np.clip(p, 0, 1)).astype(np.float32)
    path = folder / f"{workload}.npz"
    np.savez(path, x=x, y=np.asarray(y, np.int64))
    return path, source


# ------------------------------------------------------------------------------ child
def child(args) -> dict:
    if args.peer_child:
        import peer_snntorch

        return peer_snntorch.child(args.data, args.epochs)
    import keras

    from spykeflow import backends
    from spykeflow._steps import make_steps
    from spykeflow.training import make_optimizer

    spec = WORKLOADS[args.workload]
    with np.load(args.data) as d:
        x, y = d["x"], d["y"].astype(np.int32)
    batch = spec["batch"]
    keras.utils.set_random_seed(0)
    backend = backends.get(spec["backend"], **spec["params"])
    model = backend.build_model(tuple(x.shape[1:]), spec["classes"], seed=0)
    model.compile(optimizer=make_optimizer("adam", 1e-3, None), loss=backend.loss(),
                  jit_compile=keras.backend.backend() == "jax", **{
                      k: v for k, v in backend.compile_kwargs().items() if k != "jit_compile"})
    for cb in backend.callbacks():  # e.g. the STS switch: put the model in its training mode
        cb.set_model(model)
        cb.set_params({"epochs": 1})
        cb.on_train_begin()
    steps = make_steps(model, tuple(x.shape[1:]), distribution=None)
    steps.push()

    def train_epoch():
        for i in range(0, len(x), batch):
            steps.train(x[i:i + batch], y[i:i + batch])

    def infer():
        steps.pull()
        backend.predict_logits(model, x, batch)

    train_s, cpu_per_wall = timed(train_epoch, args.epochs)
    infer_s, _ = timed(infer, args.epochs)
    return {"train_clips_per_s": len(x) / train_s, "inference_clips_per_s": len(x) / infer_s,
            "cpu_per_wall": cpu_per_wall,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "params": int(model.count_params()),
            "devices": [str(d) for d in _devices(keras.backend.backend())]}


def _devices(backend):
    if backend == "jax":
        import jax

        return jax.devices()
    if backend == "torch":
        import torch

        return [torch.device("cuda")] if torch.cuda.is_available() else [torch.device("cpu")]
    import tensorflow as tf

    return tf.config.list_logical_devices()


def child_env(backend: str, threads: int, device: str) -> dict:
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3",
           "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads),
           "TF_NUM_INTRAOP_THREADS": str(threads), "TF_NUM_INTEROP_THREADS": "1",
           "PYTHONPATH": os.pathsep.join([str(HERE.parent), os.environ.get("PYTHONPATH", "")])}
    if device == "cpu":
        env["CUDA_VISIBLE_DEVICES"] = ""
        env["JAX_PLATFORMS"] = "cpu"
    return env


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backends", nargs="+", default=["tensorflow", "jax", "torch"])
    ap.add_argument("--workloads", nargs="+", default=list(WORKLOADS), choices=list(WORKLOADS))
    ap.add_argument("--clips", type=int, default=200, help="samples per epoch")
    ap.add_argument("--epochs", type=int, default=3, help="timed epochs per run (after warm-up)")
    ap.add_argument("--repeats", type=int, default=3, help="interleaved runs per backend")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", choices=["cpu", "gpu"], default="cpu")
    ap.add_argument("--peer", nargs="*", default=[], choices=["snntorch"],
                    help="also run the peer library's identical sts_convsnn (compiled path)")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--peer-child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--workload", help=argparse.SUPPRESS)
    ap.add_argument("--data", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        if args.threads and args.device == "cpu":
            _limit_threads(args.threads)
        print("RESULT " + json.dumps(child(args)))
        return 0

    result: dict = {"config": vars(args), "cpus": os.cpu_count(), "platform": platform.platform(),
                    "python": sys.version.split()[0], "load_average_start": os.getloadavg()}
    with tempfile.TemporaryDirectory() as tmp:
        for workload in args.workloads:
            path, source = make_data(workload, args.clips, Path(tmp))
            peers = args.peer if workload == "sts_convsnn" else []
            runs: dict = {b: [] for b in [*args.backends, *peers]}
            for _ in range(args.repeats):
                for backend in runs:
                    cmd = [sys.executable, __file__, "--child", "--workload", workload,
                           "--data", str(path), "--epochs", str(args.epochs),
                           "--threads", str(args.threads), "--device", args.device]
                    if backend in peers:
                        cmd.append("--peer-child")
                    keras_backend = "torch" if backend in peers else backend
                    proc = subprocess.run(cmd, capture_output=True, text=True,
                                          env=child_env(keras_backend, args.threads, args.device))
                    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
                    if proc.returncode != 0 or not lines:
                        runs[backend].append({"error": proc.stderr[-2000:]})
                        continue
                    runs[backend].append(json.loads(lines[-1][7:]))
            entry: dict = {"data": source, "samples": args.clips,
                           "batch": WORKLOADS[workload]["batch"]}
            for backend, rs in runs.items():
                ok = [r for r in rs if "error" not in r]
                if not ok:
                    entry[backend] = {"error": rs[-1]["error"]}
                    continue
                entry[backend] = {
                    key: statistics.median(r[key] for r in ok)
                    for key in ("train_clips_per_s", "inference_clips_per_s", "peak_rss_mb")}
                entry[backend]["train_clips_per_s_all"] = [r["train_clips_per_s"] for r in ok]
                entry[backend]["cpu_per_wall"] = max(r.get("cpu_per_wall", 0.0) for r in ok)
                entry[backend]["devices"] = ok[0]["devices"]
                entry[backend]["params"] = ok[0]["params"]
            result[workload] = entry
    result["load_average_end"] = os.getloadavg()
    print(json.dumps(result, indent=2))
    return 0


def _limit_threads(n: int) -> None:
    """Pin this process to ``n`` cores before any framework starts its thread pools. XLA's CPU
    client (JAX 0.10) sizes its pool from the cores it may run on and ignores the old
    ``--xla_cpu_multi_thread_eigen`` flag, so affinity is the one limit every framework obeys;
    ``cpu_per_wall`` in each result checks it."""
    if hasattr(os, "sched_setaffinity"):
        cores = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(0, cores[:n])
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    if backend == "torch":
        import torch

        torch.set_num_threads(n)
        torch.set_num_interop_threads(1)


if __name__ == "__main__":
    sys.exit(main())
