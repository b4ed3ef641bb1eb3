"""One frozen configuration dataclass per pipeline, and the pipeline record that runs it.

Every pipeline's settings are the fields of a subclass of :class:`Common` (their defaults are
the pipeline's defaults; ``QUICK`` holds the ``--quick`` variant). A run's configuration is
built as: the class defaults, then ``QUICK`` with ``--quick``, then the options that were given
on the command line or in ``--config FILE`` (not None / not False). ``config.json`` in the run
folder records it exactly (:meth:`Common.to_json`); ``--resume`` rebuilds it from there
(:meth:`Common.from_json`).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, TypeVar

from run import Run, jsonable

import spykeflow
from spykeflow import io

log = logging.getLogger("spykeflow.main")

C = TypeVar("C", bound="Common")


def freeze(value: Any) -> Any:
    """Lists -> tuples, recursively (JSON and argparse give lists; configurations keep
    tuples so that they are immutable)."""
    if isinstance(value, (list, tuple)):
        return tuple(freeze(v) for v in value)
    if isinstance(value, dict):
        return {k: freeze(v) for k, v in value.items()}
    return value


@dataclasses.dataclass(frozen=True)
class Common:
    """Settings every pipeline has."""

    pipeline: str | None = None
    data_root: str | None = None
    seed: int = 0
    no_plots: bool = False
    quick: bool = False
    #: also write the trained spiking model as a NIR graph here (main/nir_export.py)
    export_nir: str | None = None

    #: Settings of ``--quick`` (a smoke run); explicit options still override them.
    QUICK: ClassVar[Mapping[str, Any]] = {}

    def check(self) -> None:
        """Refuse settings that cannot run, before anything runs (``ValueError`` or
        ``ImportError`` with the fix); nothing to check by default."""

    @classmethod
    def names(cls) -> set[str]:
        return {f.name for f in dataclasses.fields(cls)}

    @classmethod
    def build(cls: type[C], options: Mapping[str, Any]) -> C:
        """Defaults, then :attr:`QUICK` (if ``options["quick"]``), then the given options."""
        names = cls.names()
        values: dict[str, Any] = dict(cls.QUICK) if options.get("quick") else {}
        values.update({k: v for k, v in options.items()
                       if k in names and v is not None and v is not False})
        return cls(**{k: freeze(v) for k, v in values.items()})

    def to_json(self) -> dict:
        """The configuration as written to ``config.json``."""
        return jsonable(dataclasses.asdict(self))

    @classmethod
    def from_json(cls: type[C], values: Mapping[str, Any]) -> C:
        """The configuration recorded in ``config.json`` (unknown keys are dropped)."""
        names = cls.names()
        unknown = sorted(set(values) - names)
        if unknown:
            log.warning("config.json: ignoring settings this version does not know: %s",
                        ", ".join(unknown))
        return cls(**{k: freeze(v) for k, v in values.items() if k in names})


@dataclasses.dataclass(frozen=True)
class Pipeline:
    """A pipeline of ``main/main.py``: its configuration class and its stages (``body``)."""

    summary: str
    config_class: type[Common]
    body: Callable[[Run, Any], dict]

    def config(self, options: Mapping[str, Any]) -> Common:
        return self.config_class.build(options)

    def run(self, run: Run, config: Common) -> dict:
        """Record the configuration, run the stages, write ``metrics.json``."""
        config_file = run.path("config.json")
        if config_file.exists() and run.state:
            previous = io.read_json(config_file)
            now = config.to_json()
            if previous != now:
                changed = sorted(k for k in set(previous) | set(now)
                                 if previous.get(k) != now.get(k))
                log.warning("resuming with the configuration of the first run (ignoring the "
                            "options given now for: %s)", ", ".join(changed))
                config = self.config_class.from_json(previous)
        io.write_json_atomic(config_file, config.to_json())
        metrics = self.body(run, config)
        metrics["timings_s"] = {k: v["seconds"] for k, v in run.state.items()}
        metrics["spykeflow_version"] = spykeflow.__version__
        io.write_json_atomic(run.path("metrics.json"), metrics)
        if config.export_nir:
            import nir_export

            metrics["nir_export"] = nir_export.write(run, config, metrics)
            io.write_json_atomic(run.path("metrics.json"), metrics)
        return metrics
