"""The ``features`` stage of the STDP image pipelines on Dask (``--dask-workers N`` or
``--dask-scheduler ADDRESS``): encode -> transform on the cluster into ``features.zarr`` in
the run folder (groups ``train`` and ``test``), resumable with ``--resume``; the readout reads
it back with :func:`spykeflow.dask.open_features`."""

from __future__ import annotations

import contextlib
import logging
from typing import Any

import numpy as np

log = logging.getLogger("spykeflow.main")

STORE = "features.zarr"


@contextlib.contextmanager
def client(config: Any):
    """A ``distributed.Client``: a LocalCluster of ``dask_workers`` processes (1 thread each,
    on 127.0.0.1, closed at the end) or the scheduler at ``dask_scheduler``."""
    from distributed import Client

    from spykeflow.dask import local_cluster

    logging.getLogger("distributed").setLevel(logging.WARNING)  # no per-worker INFO lines
    if config.dask_scheduler:
        with Client(config.dask_scheduler) as c:
            yield c
        return
    with local_cluster(int(config.dask_workers)) as cluster, Client(cluster) as c:
        log.info("Dask LocalCluster: %d workers, 1 thread each", int(config.dask_workers))
        yield c


def features(run: Any, config: Any, net: Any, encoder: Any, ds_train: Any, ds_test: Any) -> dict:
    """Write the features of the lazy datasets ``ds_train`` and ``ds_test`` into
    ``features.zarr`` on the cluster (the workers read the samples)."""
    from spykeflow.dask import extract_features

    layers = [tuple(f) for f in config.features] if config.features else None
    store = str(run.path(STORE))
    out: dict[str, Any] = {}
    with client(config) as c:
        for split, ds in (("train", ds_train), ("test", ds_test)):
            res = extract_features(ds, encoder, net, store,
                                   chunk_size=int(config.encode_batch), layers=layers,
                                   group=split, client=c, progress=run.progress)
            out[f"chunks_{split}"] = {"total": res["n_chunks"], "reused": res["reused"],
                                      "computed": len(res["computed"])}
    f_test = load(run)[1]
    return {"n_features": int(f_test.shape[1]),
            "active_features_per_image_test": float((f_test != 0).sum(1).mean()),
            "n_train": len(ds_train), "n_test": len(ds_test), "dask": out}


def load(run: Any) -> tuple[np.ndarray, np.ndarray]:
    """Train and test features from the store, as the npz path gives them (uint8 0/1 for
    binary features, else float32)."""
    from spykeflow.dask import open_features

    parts = [open_features(str(run.path(STORE)), group=split)[0] for split in ("train", "test")]
    return tuple(p if p.dtype == np.uint8 else p.astype(np.float32) for p in parts)  # type: ignore[return-value]
