"""The pipelines behind ``main/main.py``: thin glue over the public SpykeFlow API.

Each pipeline is a sequence of named stages. A stage's results are written into the run folder
before the stage is marked done in ``stages.json``, so an interrupted run continues with
``--resume`` from the first unfinished stage.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
import pathlib
import time
from typing import Callable

import numpy as np

import spykeflow
from spykeflow import io

log = logging.getLogger("spykeflow.main")


class Run:
    """A run folder ``outputs/<pipeline>/<run-id>/`` with its stage bookkeeping."""

    def __init__(self, directory: pathlib.Path):
        self.dir = pathlib.Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        state_file = self.dir / "stages.json"
        self.state = io.read_json(state_file) if state_file.exists() else {}

    @classmethod
    def open(cls, outputs, pipeline, out=None, run_id=None, resume=False):
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
        return cls(directory)

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

    def save_figure(self, fig, name: str) -> pathlib.Path:
        """Save a matplotlib figure as PNG atomically and close it."""
        target = self.path(name)
        with io.atomic_path(target) as tmp:
            fig.savefig(tmp, format="png", dpi=120, bbox_inches="tight")
        import matplotlib.pyplot as plt

        plt.close(fig)
        return target


@dataclasses.dataclass(frozen=True)
class Pipeline:
    summary: str
    defaults: dict
    body: Callable[[Run, dict], dict]

    def config(self, options: dict) -> dict:
        """Pipeline defaults overridden by the options that were given (not None)."""
        given = {k: v for k, v in options.items() if v is not None and k in self.defaults}
        return {**self.defaults, **given}

    def run(self, run: Run, config: dict) -> dict:
        config_file = run.path("config.json")
        if config_file.exists() and run.state:
            previous = io.read_json(config_file)
            if previous != config:
                log.warning("resuming with the configuration of the first run: %s", previous)
                config = previous
        io.write_json_atomic(config_file, config)
        metrics = self.body(run, config)
        metrics["timings_s"] = {k: v["seconds"] for k, v in run.state.items()}
        metrics["spykeflow_version"] = spykeflow.__version__
        io.write_json_atomic(run.path("metrics.json"), metrics)
        return metrics


def _digits(run: Run, config: dict) -> dict:
    from spykeflow import datasets

    x_train, y_train = datasets.load("digits", split="train", root=config["data_root"])
    encoder = spykeflow.InputLayer()
    spikes = encoder.transform(x_train[: config["n_show"]])

    def plots():
        if config["no_plots"]:
            return {}
        from spykeflow import plotting

        fig = plotting.plot_input_spikes(
            spikes, index=0, title=f"digit {y_train[0]}: input spikes per time step"
        )
        run.save_figure(fig, "input_spikes.png")
        return {"figures": ["input_spikes.png"]}

    run.stage("plots", plots)
    per_image = spikes.reshape(len(spikes), spikes.shape[1], -1, spikes.shape[-1]).sum(axis=(1, 2))
    return {
        "dataset": "digits",
        "n_train": int(len(x_train)),
        "input_shape": list(spikes.shape[1:]),
        "input_spikes_per_image": {
            "on": float(per_image[:, 0].mean()),
            "off": float(per_image[:, 1].mean()),
        },
    }


_COMMON = {"data_root": None, "seed": 0, "no_plots": False}

PIPELINES = {
    "digits": Pipeline(
        summary="embedded scikit-learn digits, no download",
        defaults={**_COMMON, "n_show": 64},
        body=_digits,
    ),
}
