"""Run folders and stage bookkeeping shared by every pipeline of ``main/main.py``.

A run folder ``outputs/<pipeline>/<run-id>/`` holds the exact configuration (``config.json``),
one entry per finished stage (``stages.json``), ``metrics.json`` and whatever the stages
write. A stage's results are written into the folder before the stage is marked done, so an
interrupted run continues with ``--resume`` from the first unfinished stage.
"""

from __future__ import annotations

import datetime
import logging
import pathlib
import time
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from spykeflow import io

log = logging.getLogger("spykeflow.main")

#: Datasets whose loaders draw a progress bar (on a terminal) and take ``progress=``.
_LOADERS_WITH_PROGRESS = {"caltech_face_motor", "facebike", "nmnist", "fsdd", "soli"}


class Run:
    """A run folder with its stage bookkeeping.

    ``progress`` (False with ``--quiet``) is what the pipelines pass on to SpykeFlow's
    ``progress`` options and to their own progress bars.
    """

    def __init__(self, directory: str | pathlib.Path, progress: bool = True):
        self.dir = pathlib.Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.progress = bool(progress)
        state_file = self.dir / "stages.json"
        self.state: dict[str, dict] = io.read_json(state_file) if state_file.exists() else {}

    @classmethod
    def open(cls, outputs: str | pathlib.Path, pipeline: str, out: str | None = None,
             run_id: str | None = None, resume: bool = False, progress: bool = True) -> Run:
        """Create a new run folder, or reopen one for ``resume``."""
        if out is not None:
            directory = pathlib.Path(out)
        elif resume:
            runs = sorted(p for p in (pathlib.Path(outputs) / pipeline).glob("*") if p.is_dir())
            if not runs:
                raise FileNotFoundError(
                    f"--resume found no earlier run of {pipeline!r} in {outputs}/{pipeline}; "
                    "start one without --resume"
                )
            directory = runs[-1]
        else:
            run_id = run_id or datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
            directory = pathlib.Path(outputs) / pipeline / run_id
        if resume and not (directory / "stages.json").exists():
            raise FileNotFoundError(f"--resume: {directory} holds no run to continue")
        return cls(directory, progress=progress)

    def done(self, stage: str) -> bool:
        return stage in self.state

    def stage(self, name: str, fn: Callable[[], dict | None]) -> dict:
        """Run ``fn`` unless ``name`` finished before; record its result and wall time."""
        if self.done(name):
            log.info("stage %s: done earlier, skipped", name)
            return self.state[name]
        log.info("stage %s ...", name)
        start = time.perf_counter()
        result = dict(fn() or {})
        result["seconds"] = round(time.perf_counter() - start, 3)
        self.state[name] = result
        io.write_json_atomic(self.dir / "stages.json", self.state)
        log.info("stage %s: %.1f s", name, result["seconds"])
        return result

    def path(self, name: str) -> pathlib.Path:
        return self.dir / name

    def save_figure(self, fig: Any, name: str) -> pathlib.Path:
        """Save a matplotlib figure as PNG atomically and close it."""
        import matplotlib.pyplot as plt

        target = self.path(name)
        with io.atomic_path(target) as tmp:
            fig.savefig(tmp, format="png", dpi=120, bbox_inches="tight")
        plt.close(fig)
        return target

    def bar(self, iterable: Iterable, total: int | None = None, desc: str | None = None):
        """``iterable`` with a tqdm bar, or bare when the run is quiet."""
        if not self.progress:
            return iterable
        from tqdm.auto import tqdm

        return tqdm(iterable, total=total, desc=desc, leave=False, dynamic_ncols=True)

    def load(self, dataset: str, split: str, data_root: str | None,
             **options) -> tuple[np.ndarray, np.ndarray]:
        """``spykeflow.datasets.load`` without the loaders' own bars when the run is quiet."""
        from spykeflow import datasets

        if not self.progress and dataset in _LOADERS_WITH_PROGRESS:
            options.setdefault("progress", False)
        return datasets.load(dataset, split=split, root=data_root, **options)

    def dataset(self, name: str, split: str, data_root: str | None, limit: int | None = None,
             **options) -> Any:
        """``spykeflow.datasets.open`` (nothing read yet), its first ``limit`` samples when
        ``limit`` is set; read it with :meth:`read` for the run's progress setting."""
        from spykeflow import datasets

        ds = datasets.open(name, split=split, root=data_root, **options)
        return ds[:limit] if limit else ds

    def read(self, ds: Any) -> tuple[np.ndarray, np.ndarray]:
        """``ds.read()``, with the readers' own bar only when the run shows progress."""
        return ds.read(progress=None if self.progress else False)


def jsonable(value: Any) -> Any:
    """numpy scalars/arrays and tuples -> Python types, recursively (for the JSON files)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    return value


def limit(x: np.ndarray, y: np.ndarray, n: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The first ``n`` samples (all of them when ``n`` is None or 0)."""
    return (x, y) if not n else (x[:n], y[:n])


_FASHION = ["T-shirt", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
            "Bag", "Boot"]


def class_names(dataset: str, classes: Iterable) -> list[str]:
    """Readable names of the class labels ``classes`` of ``dataset``."""
    if dataset in ("emnist", "emnist_balanced"):
        from spykeflow.plotting import EMNIST_BALANCED_LABELS

        return [EMNIST_BALANCED_LABELS[int(c)] for c in classes]
    if dataset in ("fashion", "fashion_mnist"):
        return [_FASHION[int(c)] for c in classes]
    if dataset in ("facebike", "caltech_face_motor"):
        return [["Face", "Motor"][int(c)] for c in classes]
    return [str(c) for c in classes]
