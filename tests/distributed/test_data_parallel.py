"""Data-parallel training on JAX gives the weights of one-device training (issue 19).

Three real runs of the same ``Classifier`` fit (``dp_worker.py``), each in its own process:

* one CPU device;
* two CPU devices in one process (``XLA_FLAGS=--xla_force_host_platform_device_count=2``),
  ``distribution="data_parallel"``;
* two processes on 127.0.0.1 (process 0 hosts JAX's coordination service), one CPU device
  each, joined by ``keras.distribution.initialize``; the test starts both and stops them
  with a bounded timeout.

Each global batch is the same in the three runs, so the learned weights agree up to float
round-off of the all-reduce.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytestmark = [
    pytest.mark.backends,
    pytest.mark.skipif(importlib.util.find_spec("jax") is None,
                       reason="needs JAX (pip install -e \".[jax]\")"),
]

WORKER = Path(__file__).resolve().parent / "dp_worker.py"
ROOT = WORKER.parents[2]
TIMEOUT_S = 300


def _env(devices: int = 1) -> dict:
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu",
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    env["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={devices}"
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _load(path: Path) -> dict:
    with np.load(path) as d:
        return {k: d[k] for k in d.files}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("dp")
    out = {}
    subprocess.run([sys.executable, str(WORKER), "--out", str(root / "one.npz")],
                   env=_env(1), check=True, timeout=TIMEOUT_S, capture_output=True)
    out["one_device"] = _load(root / "one.npz")
    subprocess.run([sys.executable, str(WORKER), "--out", str(root / "two.npz"),
                    "--distribution", "data_parallel"],
                   env=_env(2), check=True, timeout=TIMEOUT_S, capture_output=True)
    out["two_devices"] = _load(root / "two.npz")
    address = f"127.0.0.1:{_free_port()}"
    procs = [subprocess.Popen(
        [sys.executable, str(WORKER), "--out", str(root / "procs.npz"),
         "--distribution", "data_parallel", "--coordinator", address,
         "--num-processes", "2", "--process-id", str(i)],
        env=_env(1), stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for i in range(2)]
    logs = []
    try:
        for p in procs:
            logs.append(p.communicate(timeout=TIMEOUT_S)[0].decode(errors="replace"))
    finally:
        for p in procs:  # never leave a worker behind, whatever happened
            if p.poll() is None:
                p.kill()
                p.wait(timeout=30)
    assert all(p.returncode == 0 for p in procs), "\n".join(log[-3000:] for log in logs)
    out["two_processes"] = _load(root / "procs.npz")
    return out


def test_runs_used_the_devices_and_processes(runs):
    assert int(runs["one_device"]["devices"]) == 1
    assert int(runs["two_devices"]["devices"]) == 2
    assert int(runs["two_devices"]["processes"]) == 1
    assert int(runs["two_processes"]["devices"]) == 2
    assert int(runs["two_processes"]["processes"]) == 2


@pytest.mark.parametrize("run", ["two_devices", "two_processes"])
def test_same_weights_as_one_device(runs, run):
    ref, got = runs["one_device"], runs[run]
    keys = sorted(k for k in ref if k.startswith("w"))
    assert keys and keys == sorted(k for k in got if k.startswith("w"))
    for k in keys:
        np.testing.assert_allclose(got[k], ref[k], rtol=1e-4, atol=1e-5, err_msg=k)
    np.testing.assert_allclose(got["loss"], ref["loss"], rtol=1e-5)
    np.testing.assert_allclose(got["scores"], ref["scores"], rtol=1e-4, atol=1e-4)


def test_training_moved_the_weights(runs):
    """The comparison above means something only if training changed the weights."""
    loss = runs["one_device"]["loss"]
    assert loss[-1] < loss[0]
