"""encode -> transform of a whole dataset on Dask, written to a resumable Zarr store."""

from __future__ import annotations

import hashlib
import json
import logging
import os
from typing import Any

import numpy as np

from spykeflow._lazy import require_dask, worker_copy
from spykeflow._validation import check_bool, check_fitted, check_int
from spykeflow._version import __version__

from . import _store
from ._blocks import check_dataset, chunk_bounds, read_block

__all__ = ["extract_features", "fingerprint"]

logger = logging.getLogger(__name__)

#: Parameters that never change results (threads, batching, bars): left out of fingerprints.
_NEUTRAL = {"progress", "n_jobs", "batch_size", "checkpoint_path", "checkpoint_every",
            "monitors"}


def _sha(*parts: Any) -> str:
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, np.ndarray):
            h.update(f"{part.dtype.str}{part.shape}".encode())
            h.update(np.ascontiguousarray(part).tobytes())
        else:
            h.update(json.dumps(part, sort_keys=True, default=repr).encode())
    return h.hexdigest()


def fingerprint(ds: Any, encoder: Any, network: Any, layers: Any = None) -> str:
    """SHA-256 of what decides the features: the Network's learned weights and
    result-relevant parameters, the encoder's parameters, the feature sets (``layers``) and
    the dataset (name, split, length, labels)."""
    check_fitted(network, "weights_")
    params = {k: v for k, v in network.get_params(deep=False).items()
              if k not in _NEUTRAL and k != "layers"}
    layer_configs = [layer.get_config() for layer in network.layers_]
    weights = [w for w in network.weights_ if w is not None]
    enc = {k: v for k, v in encoder.get_params(deep=False).items() if k not in _NEUTRAL}
    labels = getattr(ds, "labels", None)
    data = {"name": getattr(ds, "name", None), "split": getattr(ds, "split", None),
            "len": len(ds), "type": type(ds).__name__}
    return _sha(params, layer_configs, *weights, type(encoder).__name__, enc, layers, data,
                np.asarray(labels) if labels is not None else None)


def _layout(ds: Any, n: int, encoder: Any, network: Any, layers: Any, chunk_size: int,
            print_: str) -> dict:
    """The store layout: feature count and dtype from the first sample (encoded and
    transformed here), packing when every feature set is binary."""
    probe = np.asarray(network.transform(encoder.transform(read_block(ds, 0, 1)[0]),
                                         layers=layers))
    sets = network._feature_sets(layers)
    packed = all(values == "binary" for _, values in sets)
    n_features = int(probe.shape[1])
    return {"format_version": _store.FORMAT_VERSION, "n_samples": n, "n_features": n_features,
            "packed": packed, "dtype": "uint8" if packed else probe.dtype.str,
            "width": -(-n_features // 8) if packed else n_features, "chunk_size": chunk_size,
            "n_chunks": len(chunk_bounds(n, chunk_size)),
            "dataset": {"name": getattr(ds, "name", None), "split": getattr(ds, "split", None),
                        "len": n},
            "fingerprint": print_, "spykeflow_version": __version__}


def _open_store(store: Any, group: str | None, layout: dict, overwrite: bool) -> Any:
    """The store group, created (or re-created with ``overwrite``) or checked against
    ``layout``."""
    if overwrite:
        g = _store.open_group(store, group, mode="w")
    else:
        g = _store.open_group(store, group, mode="a")
        previous = _store.layout_of(g)
        if previous is not None:
            changed = sorted(k for k in ("fingerprint", "chunk_size", "n_samples", "n_features",
                                         "packed", "dtype", "format_version")
                             if previous.get(k) != layout[k])
            if changed:
                raise _store.FeatureStoreError(
                    f"Expected the feature store {store!r} to hold features of this network, "
                    f"encoder and dataset. Received: a store written with a different "
                    f"{', '.join(changed)} (store fingerprint {previous.get('fingerprint')}, "
                    f"now {layout['fingerprint']}). Pass overwrite=True to start over, or "
                    "choose another store.")
            return g
        if len(list(g.keys())):
            raise _store.FeatureStoreError(
                f"Expected an empty store or a SpykeFlow feature store. Received: {store!r} "
                f"(group {group!r}) holds other data. Pass overwrite=True to replace it.")
    _store.create(g, layout)
    return g


def _default_client() -> Any:
    try:
        from distributed import default_client
    except ImportError:
        return None
    try:
        return default_client()
    except ValueError:
        return None


def _run(tasks: list, client: Any, progress: bool) -> list:
    """Compute the chunk tasks on ``client`` (distributed) or Dask's local scheduler, with
    Dask's progress bar."""
    import dask

    if client is not None:
        futures = client.compute(tasks)
        if progress:
            from distributed import progress as bar

            bar(futures)
        return client.gather(futures)
    if progress:
        from dask.diagnostics import ProgressBar

        with ProgressBar():
            return list(dask.compute(*tasks))
    return list(dask.compute(*tasks))


def extract_features(ds: Any, encoder: Any, network: Any, store: Any, chunk_size: int = 1000,
                     *, layers: Any = None, group: str | None = None, client: Any = None,
                     progress: bool = True, overwrite: bool = False) -> dict:
    """Stream a dataset through ``encoder.transform`` -> ``network.transform`` on Dask and
    write the features to a resumable Zarr store.

    Each task reads one chunk of ``chunk_size`` samples (``ds[a:b].read()``), encodes and
    transforms it on its worker, writes it into the store and commits it with a checksum.
    ``ds``, ``encoder`` and ``network`` enter the graph once each (copies with
    ``progress=False``, ``n_jobs=1``), so every worker receives one copy.

    A rerun on the same store verifies every chunk marked done (its checksum recomputed from
    the stored bytes) and computes only the missing or corrupt ones. A task that finds its
    chunk already committed and verified writes nothing (a task retried after its worker died).

    Parameters
    ----------
    ds : lazy dataset
        ``len(ds)``, ``ds[a:b].read() -> (samples, labels)``, picklable and small
        (e.g. ``spykeflow.datasets.open("mnist", "train")``).
    encoder : InputLayer or EventEncoder
    network : Network
        A fitted Network.
    store : str, path or zarr store
        Where the features go (a directory for a path); any zarr store that pickles.
    chunk_size : int, default=1000
        Samples per task and per zarr chunk.
    layers : list, optional
        ``Network.transform``'s feature sets (default: the Network's own).
    group : str, optional
        A group inside the store (e.g. ``"train"``); default the store's root.
    client : distributed.Client, optional
        Default: the scheduler set in ``dask.config`` if any, else the current default
        client, else Dask's local threaded scheduler.
    progress : bool, default=True
        Dask's progress bar (``distributed.progress`` or ``dask.diagnostics.ProgressBar``).
    overwrite : bool, default=False
        Start over; without it a store of another network, encoder, dataset or chunk size is
        refused with a :class:`FeatureStoreError`.

    Returns
    -------
    dict
        ``n_chunks``, ``reused`` (chunks verified and kept), ``computed`` (indices of the chunks
        computed now), ``skipped`` (tasks that found their chunk committed), ``n_features``,
        ``packed``.

    Examples
    --------
    See docs/concepts/dask.md; :func:`spykeflow.dask.open_features` reads the store back.
    """
    require_dask()
    import dask

    n = check_dataset(ds)
    check_int(chunk_size, "chunk_size")
    check_bool(progress, "progress")
    check_bool(overwrite, "overwrite")
    if isinstance(store, os.PathLike):
        store = os.fspath(store)
    enc, net = worker_copy(encoder), worker_copy(network)
    layout = _layout(ds, n, enc, net, layers, int(chunk_size),
                     fingerprint(ds, encoder, network, layers))
    g = _open_store(store, group, layout, overwrite)
    done = set(_store.verified_chunks(g, layout))
    todo = [i for i in range(layout["n_chunks"]) if i not in done]
    logger.info("feature store %s: %d chunks verified, %d to compute", store, len(done),
                len(todo))
    if client is None and dask.config.get("scheduler", None) is None:
        client = _default_client()
    nodes = [dask.delayed(obj, pure=True) for obj in (ds, enc, net)]
    tasks = [dask.delayed(_store.write_chunk, pure=False)(i, *nodes, layers, store, group)
             for i in todo]
    results = _run(tasks, client, progress) if tasks else []
    return {"n_chunks": layout["n_chunks"], "reused": len(done), "computed": todo,
            "skipped": int(sum(r == "skipped" for r in results)),
            "n_features": layout["n_features"], "packed": layout["packed"]}
