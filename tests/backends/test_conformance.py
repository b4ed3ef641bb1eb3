"""Backend conformance: the same model gives the same numbers on TensorFlow, JAX and PyTorch.

``run_cases.py`` runs every registered case (``cases_*.py``) in a fresh interpreter per
backend; these tests compare the results:

* forward outputs agree across backends to ``atol=1e-5`` (float32);
* surrogate gradients (keys ``grad*``) agree to ``rtol=1e-4`` (plus a small ``atol`` for
  entries that are zero on one backend and round-off on another);
* every case repeats bit-exactly on its own backend under the same seed;
* a ``.keras`` file saved on one backend loads and predicts identically on each other one.

A backend whose package is not installed is skipped (``pip install -e ".[jax,torch]"``).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import harness  # noqa: E402

for _module in sorted(p.stem for p in HERE.glob("cases_*.py")):
    __import__(_module)

pytestmark = pytest.mark.backends

BACKENDS = ["tensorflow", "jax", "torch"]
AVAILABLE = [b for b in BACKENDS if importlib.util.find_spec(b) is not None]
TIMEOUT_S = 1200


def _run(backend: str, out: Path, *extra: str) -> dict[str, np.ndarray]:
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3",
           "CUDA_VISIBLE_DEVICES": os.environ.get("CUDA_VISIBLE_DEVICES", "")}
    if os.environ.get("SPYKEFLOW_CONFORMANCE_GPU"):
        env.pop("CUDA_VISIBLE_DEVICES")
    elif backend == "jax":
        # Most of JAX's time here is compiling each small case twice: compile without LLVM's
        # optimisation passes (same IEEE arithmetic) and let the second run of each case
        # read the first one's executables from a cache (about half the time on 2 cores).
        env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") + " --xla_backend_optimization_level=0")
        env.update(JAX_COMPILATION_CACHE_DIR=str(out.parent / "jax_cache"),
                   JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS="0",
                   JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES="0")
    proc = subprocess.run([sys.executable, str(HERE / "run_cases.py"), "--out", str(out),
                           *extra], env=env, capture_output=True, text=True, timeout=TIMEOUT_S)
    if proc.returncode != 0:
        raise AssertionError(f"run_cases.py on {backend} failed:\n{proc.stderr[-6000:]}")
    with np.load(out) as data:
        return {k: data[k] for k in data.files}


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    root = tmp_path_factory.mktemp("conformance")
    saved = {b: root / f"saved_{b}" for b in AVAILABLE}
    out = {}
    for backend in AVAILABLE:  # every case, twice, and the models to exchange
        out[backend] = _run(backend, root / f"{backend}.npz", "--save", str(saved[backend]))
    for backend in AVAILABLE:  # each backend loads what the others saved
        others = [str(saved[b]) for b in AVAILABLE if b != backend]
        if others:
            out["load_" + backend] = _run(backend, root / f"load_{backend}.npz",
                                          "--only", "none", "--load", *others)
    return out


def _pairs():
    return [(a, b) for i, a in enumerate(AVAILABLE) for b in AVAILABLE[i + 1:]]


CROSS = [n for n in harness.CASES if n not in harness.SAME_BACKEND_ONLY]


def test_every_backend_installed_for_ci():
    """CI installs the jax and torch extras; a missing one would silently shrink the suite."""
    missing = [b for b in BACKENDS if b not in AVAILABLE]
    if missing and os.environ.get("CI_REQUIRE_ALL_BACKENDS"):
        pytest.fail(f"backends not installed: {missing}")
    if missing:
        pytest.skip(f"not installed: {missing} (pip install -e \".[jax,torch]\")")


@pytest.mark.parametrize("name", sorted(harness.CASES))
@pytest.mark.parametrize("backend", AVAILABLE)
def test_repeats_exactly(results, backend, name):
    assert bool(results[backend][f"{name}/repeat_exact"]), \
        f"{name} on {backend} gave different numbers on a second run with the same seed"


@pytest.mark.parametrize("name", sorted(CROSS))
@pytest.mark.parametrize("pair", _pairs(), ids=lambda p: f"{p[0]}-{p[1]}")
def test_same_numbers_across_backends(results, pair, name):
    a, b = (results[p] for p in pair)
    keys = sorted(k for k in a if k.startswith(name + "/") and not k.endswith("/repeat_exact"))
    assert keys, f"no results for {name}"
    for key in keys:
        assert key in b, f"{key} missing on {pair[1]}"
        x, y = a[key], b[key]
        assert x.shape == y.shape, f"{key}: shapes {x.shape} vs {y.shape}"
        if key.split("/", 1)[1].startswith("grad"):
            scale = max(1.0, float(np.max(np.abs(x))) if x.size else 1.0)
            np.testing.assert_allclose(y, x, rtol=1e-4, atol=1e-5 * scale,
                                       err_msg=f"{key}: {pair[0]} vs {pair[1]}")
        else:
            np.testing.assert_allclose(y, x, rtol=0, atol=1e-5,
                                       err_msg=f"{key}: {pair[0]} vs {pair[1]}")


@pytest.mark.parametrize("name", sorted(harness.SAVED_MODELS))
@pytest.mark.parametrize("pair", [(a, b) for a in AVAILABLE for b in AVAILABLE if a != b],
                         ids=lambda p: f"{p[0]}-to-{p[1]}")
def test_saved_model_loads_on_other_backend(results, pair, name):
    saved_on, loaded_on = pair
    expected = results[saved_on][f"saved/{name}"]
    got = results["load_" + loaded_on][f"loaded/saved_{saved_on}/{name}"]
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5)
