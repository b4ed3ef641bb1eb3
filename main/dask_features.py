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


class ArrayDataset:
    """The lazy-dataset interface (``len``, slicing, ``read()``, ``labels``, ``name``,
    ``split``) over arrays already in memory, for when ``spykeflow.datasets.open`` is not
    available. Pickled by value into the graph (once), so an external cluster needs no copy
    of this file."""

    def __init__(self, samples: Any, labels: Any, name: str, split: str):
        self.samples, self.labels = samples, np.asarray(labels, np.int64)
        self.name, self.split = name, split

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return ArrayDataset(self.samples[index], self.labels[index], self.name, self.split)
        return self.samples[index], self.labels[index]

    def read(self) -> tuple[Any, np.ndarray]:
        return self.samples, self.labels


def dataset(config: Any, split: str, x: Any, y: Any) -> Any:
    """The split as a lazy dataset: ``spykeflow.datasets.open`` where it exists (nothing read
    on the client), else the arrays the pipeline loaded."""
    from spykeflow import datasets

    opener = getattr(datasets, "open", None)
    if opener is not None and not config.load_options:
        return opener(config.dataset, split, config.data_root)[:len(x)]
    import cloudpickle

    cloudpickle.register_pickle_by_value(__import__(__name__))
    return ArrayDataset(x, y, config.dataset, split)


@contextlib.contextmanager
def client(config: Any):
    """A ``distributed.Client``: a LocalCluster of ``dask_workers`` processes (1 thread each,
    on 127.0.0.1, closed at the end) or the scheduler at ``dask_scheduler``."""
    from distributed import Client, LocalCluster

    logging.getLogger("distributed").setLevel(logging.WARNING)  # no per-worker INFO lines
    if config.dask_scheduler:
        with Client(config.dask_scheduler) as c:
            yield c
        return
    with LocalCluster(n_workers=int(config.dask_workers), threads_per_worker=1, processes=True,
                      host="127.0.0.1", dashboard_address=None) as cluster, \
            Client(cluster) as c:
        log.info("Dask LocalCluster: %d workers, 1 thread each", int(config.dask_workers))
        yield c


def features(run: Any, config: Any, net: Any, encoder: Any, train: tuple, test: tuple) -> dict:
    """Write the train and test features into ``features.zarr`` on the cluster."""
    from spykeflow.dask import extract_features

    layers = [tuple(f) for f in config.features] if config.features else None
    store = str(run.path(STORE))
    out: dict[str, Any] = {}
    with client(config) as c:
        for split, (x, y) in (("train", train), ("test", test)):
            res = extract_features(dataset(config, split, x, y), encoder, net, store,
                                   chunk_size=int(config.encode_batch), layers=layers,
                                   group=split, client=c, progress=run.progress)
            out[f"chunks_{split}"] = {"total": res["n_chunks"], "reused": res["reused"],
                                      "computed": len(res["computed"])}
    f_test = load(run)[1]
    return {"n_features": int(f_test.shape[1]),
            "active_features_per_image_test": float((f_test != 0).sum(1).mean()),
            "n_train": len(train[0]), "n_test": len(test[0]), "dask": out}


def load(run: Any) -> tuple[np.ndarray, np.ndarray]:
    """Train and test features from the store, as the npz path gives them (uint8 0/1 for
    binary features, else float32)."""
    from spykeflow.dask import open_features

    parts = [open_features(str(run.path(STORE)), group=split)[0] for split in ("train", "test")]
    return tuple(p if p.dtype == np.uint8 else p.astype(np.float32) for p in parts)  # type: ignore[return-value]
