"""The feature store: a Zarr group written chunk by chunk from the workers.

Layout (one group; ``n`` samples, ``k = ceil(n / chunk_size)`` chunks)::

    features   (n, ceil(F / 8)) uint8, bit-packed along the features (binary features), or
               (n, F) in the features' own dtype; zarr chunks (chunk_size, all columns)
    labels     (n,) int64; zarr chunks (chunk_size,)
    done       (k, 2) uint64; zarr chunks (1, 2): [checksum, commits] of chunk i, written
               after its features and labels; checksum 0 = not done
    attrs      "spykeflow_features": n_samples, n_features, packed, dtype, chunk_size,
               n_chunks, dataset (name, split, len), fingerprint, spykeflow_version

Every object a task writes belongs to its chunk alone (one zarr chunk of each array), so
concurrent tasks never write the same object.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

import numpy as np

from ._blocks import chunk_bounds, read_block

__all__ = ["FeatureStoreError", "open_features"]

logger = logging.getLogger(__name__)

ATTR = "spykeflow_features"
FORMAT_VERSION = 1


class FeatureStoreError(ValueError):
    """A feature store that does not match the request, or is incomplete or corrupt."""


def require_zarr() -> Any:
    try:
        import zarr
    except ImportError as err:  # pragma: no cover - depends on the environment
        from spykeflow._lazy import INSTALL_HINT

        raise ImportError("Expected zarr to be installed for the feature store. Received: "
                          f"ImportError({err}). Install the extra: {INSTALL_HINT}") from err
    return zarr


def open_group(store: Any, group: str | None, mode: str) -> Any:
    """The store's group (``group`` inside ``store``, or its root)."""
    zarr = require_zarr()
    return zarr.open_group(store, path=group or "", mode=mode)


def checksum(features: np.ndarray, labels: np.ndarray) -> int:
    """A non-zero 64-bit BLAKE2b checksum of a chunk's features and labels (shapes included).

    >>> checksum(np.zeros((2, 3), np.uint8), np.arange(2)) != 0
    True
    """
    h = hashlib.blake2b(digest_size=8)
    for a in (features, labels):
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.tobytes())
    return int.from_bytes(h.digest(), "little") or 1


def create(group: Any, layout: dict) -> None:
    """Create the arrays of an empty store group, then its attributes (the attributes come
    last: a group with them is a complete, initialised store)."""
    n, chunk, width = layout["n_samples"], layout["chunk_size"], layout["width"]
    group.create_array("features", shape=(n, width), chunks=(chunk, width),
                       dtype=layout["dtype"], fill_value=0)
    group.create_array("labels", shape=(n,), chunks=(chunk,), dtype="int64", fill_value=0)
    group.create_array("done", shape=(layout["n_chunks"], 2), chunks=(1, 2), dtype="uint64",
                       fill_value=0)
    group.attrs[ATTR] = layout


def layout_of(group: Any) -> Any:
    """The store's layout attributes (a dict), or None for an uninitialised group."""
    return group.attrs.asdict().get(ATTR)


def verify_chunk(group: Any, layout: dict, i: int, record: np.ndarray | None = None) -> bool:
    """Whether chunk ``i`` is marked done and its stored bytes match the recorded checksum
    (decoding errors of a damaged chunk count as a mismatch)."""
    if record is None:
        record = group["done"][i]
    if int(record[0]) == 0:
        return False
    a, b = chunk_bounds(layout["n_samples"], layout["chunk_size"])[i]
    try:
        features, labels = group["features"][a:b], group["labels"][a:b]
    except Exception as err:  # any decoding error means "recompute"
        logger.warning("chunk %d of the feature store cannot be read (%s); recomputing it",
                       i, err)
        return False
    if checksum(features, labels) != int(record[0]):
        logger.warning("chunk %d of the feature store fails its checksum; recomputing it", i)
        return False
    return True


def verified_chunks(group: Any, layout: dict) -> list[int]:
    """The chunks marked done whose stored bytes verify."""
    records = group["done"][:]
    return [i for i in range(layout["n_chunks"]) if verify_chunk(group, layout, i, records[i])]


def to_stored(features: np.ndarray, layout: dict) -> np.ndarray:
    """Features as stored: bit-packed rows for binary features, else the store's dtype."""
    if layout["packed"]:
        return np.packbits(features.astype(bool), axis=1)
    return np.asarray(features, dtype=layout["dtype"])


def write_chunk(i: int, ds: Any, encoder: Any, network: Any, layers: Any, store: Any,
                group_path: str | None) -> str:
    """One task: encode -> transform chunk ``i`` and write it, unless the store already holds
    it verified (a task retried after its worker died after committing). Returns
    ``"written"`` or ``"skipped"``.

    Order: features and labels first, the ``done`` record (checksum, commit count) last, so a
    task killed half-way leaves the chunk not done and a rerun recomputes it.
    """
    group = open_group(store, group_path, mode="r+")
    layout = layout_of(group)
    record = group["done"][i]
    if verify_chunk(group, layout, i, record):
        return "skipped"
    a, b = chunk_bounds(layout["n_samples"], layout["chunk_size"])[i]
    samples, labels = read_block(ds, a, b)
    data = to_stored(network.transform(encoder.transform(samples), layers=layers), layout)
    labels = labels.astype(np.int64)
    group["features"][a:b] = data
    group["labels"][a:b] = labels
    group["done"][i] = np.array([checksum(data, labels), int(record[1]) + 1], np.uint64)
    return "written"


def open_features(store: Any, group: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Read a feature store written by :func:`spykeflow.dask.extract_features`.

    Parameters
    ----------
    store : str, path or zarr store
    group : str, optional
        The group inside the store (as given to ``extract_features``).

    Returns
    -------
    X : ndarray (n, F)
        Features, unpacked (``uint8`` 0/1 for binary features, else as stored).
    y : ndarray (n,) int64
        Labels.

    Raises
    ------
    FeatureStoreError
        When a chunk is missing or fails its checksum: rerun ``extract_features`` with the
        same arguments to compute the missing chunks.
    """
    g = open_group(store, group, mode="r")
    layout = layout_of(g)
    if layout is None:
        raise FeatureStoreError(
            f"Expected a SpykeFlow feature store. Received: {store!r} (group {group!r}) has no "
            f"{ATTR!r} attributes. Write one with spykeflow.dask.extract_features.")
    good = set(verified_chunks(g, layout))
    missing = [i for i in range(layout["n_chunks"]) if i not in good]
    if missing:
        raise FeatureStoreError(
            f"Expected a complete feature store. Received: {len(missing)} of "
            f"{layout['n_chunks']} chunks missing or corrupt in {store!r} (first: "
            f"{missing[:5]}). Rerun spykeflow.dask.extract_features with the same arguments "
            "(overwrite=False) to compute them.")
    x, y = g["features"][:], g["labels"][:]
    if layout["packed"]:
        x = np.unpackbits(x, axis=1, count=layout["n_features"])
    return x, y
