"""Run every conformance case under the current ``KERAS_BACKEND`` and write the results.

    KERAS_BACKEND=jax python tests/backends/run_cases.py --out jax.npz --save DIR --load DIR2

Each case runs twice; ``<case>/repeat_exact`` records whether both runs gave bit-identical
arrays. ``--save`` writes each saved-model builder's model to ``DIR/<name>.keras`` with its
inputs and predictions; ``--load`` loads every ``<name>.keras`` found in the given folders
(written by other backends) and stores its predictions under ``loaded/<folder>/<name>``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))  # the repository root, for `import spykeflow`
sys.path.insert(0, str(HERE))

import harness  # noqa: E402
import keras  # noqa: E402

if os.environ.get("SPYKEFLOW_CONFORMANCE_GPU") and keras.backend.backend() == "torch":
    import torch  # float32 on the GPU: no TF32 in convolutions and matmuls

    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False

CASE_MODULES = sorted(p.stem for p in HERE.glob("cases_*.py"))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", required=True)
    ap.add_argument("--only", nargs="*", help="run only these cases (names)")
    ap.add_argument("--save", help="folder to write saved models to")
    ap.add_argument("--load", nargs="*", default=[], help="folders of saved models to load")
    args = ap.parse_args(argv)
    for name in CASE_MODULES:
        importlib.import_module(name)
    results: dict[str, np.ndarray] = {"backend": np.array(keras.backend.backend())}
    for name, fn in harness.CASES.items():
        if args.only and name not in args.only:
            continue
        t0 = time.perf_counter()
        keras.utils.set_random_seed(0)
        first = fn()
        keras.utils.set_random_seed(0)
        second = fn()
        same = set(first) == set(second) and all(
            np.array_equal(first[k], second[k], equal_nan=True) for k in first)
        for key, value in first.items():
            results[f"{name}/{key}"] = np.asarray(value)
        results[f"{name}/repeat_exact"] = np.array(same)
        print(f"{name}: {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
    if args.save:
        os.makedirs(args.save, exist_ok=True)
        for name, build in harness.SAVED_MODELS.items():
            keras.utils.set_random_seed(0)
            model, x = build()
            model.save(os.path.join(args.save, f"{name}.keras"))
            np.save(os.path.join(args.save, f"{name}.x.npy"), x)
            results[f"saved/{name}"] = harness.to_numpy(model(x, training=False))
    for folder in args.load:
        tag = Path(folder).name
        for name in harness.SAVED_MODELS:
            path = os.path.join(folder, f"{name}.keras")
            if not os.path.exists(path):
                continue
            model = keras.saving.load_model(path)
            x = np.load(os.path.join(folder, f"{name}.x.npy"))
            results[f"loaded/{tag}/{name}"] = harness.to_numpy(model(x, training=False))
    np.savez(args.out, **results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
