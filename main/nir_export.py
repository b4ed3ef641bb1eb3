"""``--export-nir PATH``: write a run's trained spiking model as a NIR graph
(:func:`spykeflow.nir.export`).

Which model: the saved ``classifier`` when its backend is spiking (``convsnn``,
``sts_convsnn``, ``s2net``: nmnist ``--backend convsnn``, soli, fsdd, sequences), else the
saved STDP ``network`` (digits, mnist, fashion, emnist, facebike, nmnist's STDP path: the
readout on its features is not spiking). The qcfs pipeline trains one network per ``L`` and
exports each QCFS-converted SNN as it goes, to ``PATH`` with ``-L<L>`` before the suffix
(:func:`level_path`). :func:`check` refuses, before anything runs, configurations that train
no spiking model NIR can hold.
"""

from __future__ import annotations

import logging
import pathlib
from typing import Any

import protocols

import spykeflow

log = logging.getLogger("spykeflow.main")

class ExportError(ValueError):
    """The run has nothing to export (``main.py`` reports it and exits 2; metrics.json is
    already written)."""


#: Classifier backends whose model is exported.
SPIKING_BACKENDS = ("convsnn", "sts_convsnn", "s2net")


def check(config: Any) -> None:
    """Raise ``ValueError`` if ``config`` asks for ``export_nir`` but will train no spiking
    model that NIR can hold."""
    if not getattr(config, "export_nir", None):
        return
    pipeline = config.pipeline
    if pipeline == "sequences":
        _, (backend, *_rest) = protocols.resolve(config.model)
        if backend not in SPIKING_BACKENDS:
            why = ("a branching network (residual blocks), which has no NIR export"
                   if backend == "sts_resnet" else "a non-spiking ANN baseline")
            raise ValueError(f"--export-nir: sequences --model {config.model} trains {why}. "
                             "Use --model convsnn (sts_convsnn) for a spiking model.")
    if pipeline == "qcfs" and not config.levels:
        raise ValueError("--export-nir: qcfs with no QCFS levels trains only the ReLU baseline; "
                         "give --config with levels, or drop --export-nir.")


def level_path(path: str, levels: int) -> pathlib.Path:
    """``model.nir`` -> ``model-L4.nir`` (one file per QCFS network)."""
    p = pathlib.Path(path)
    return p.with_name(f"{p.stem}-L{levels}{p.suffix or '.nir'}")


def write(run: Any, config: Any, metrics: dict) -> dict:
    """Export the run's spiking model to ``config.export_nir``; returns what was written."""
    path = pathlib.Path(config.export_nir)
    if config.pipeline == "qcfs":
        written = [r["nir_export"] for r in metrics.get("curves", []) if r.get("nir_export")]
        if not written:
            raise ExportError("--export-nir: this qcfs run exported no network (a run resumed "
                             "from an earlier one without --export-nir exports nothing).")
        return {"paths": written, "model": "qcfs_snn"}
    clf_dir, net_dir = run.path("classifier"), run.path("network")
    model: Any = None
    if clf_dir.exists():
        clf = spykeflow.Classifier.load(clf_dir)
        if clf.backend in SPIKING_BACKENDS:
            model, kind = clf, clf.backend
    if model is None and net_dir.exists():
        model, kind = spykeflow.Network.load(net_dir), "stdp_network"
    if model is None:
        raise ExportError(f"--export-nir: the {config.pipeline} run trained no spiking model "
                         f"(no spiking classifier or STDP network in {run.dir}).")
    spykeflow.nir.export(model, path)
    log.info("NIR graph of the %s written to %s", kind, path)
    return {"path": str(path), "model": kind}
