"""Datasets read and encoded block by block on the workers: :func:`encode`."""

from __future__ import annotations

from typing import Any

import numpy as np

from spykeflow._lazy import require_dask, worker_copy
from spykeflow._validation import check_int

__all__ = ["chunk_bounds", "check_dataset", "encode"]


def chunk_bounds(n: int, chunk_size: int) -> list[tuple[int, int]]:
    """``[(start, stop), ...]`` of the chunks of ``n`` samples, ``chunk_size`` each (the last
    one shorter).

    >>> chunk_bounds(5, 2)
    [(0, 2), (2, 4), (4, 5)]
    """
    return [(a, min(a + chunk_size, n)) for a in range(0, n, chunk_size)]


def check_dataset(ds: Any, name: str = "ds") -> int:
    """Validate a lazy dataset (``len``, slicing, ``read()``); return its length."""
    if not all(hasattr(ds, name) for name in ("__len__", "__getitem__", "read")):
        raise TypeError(
            f"Expected {name} to be a lazy dataset (len({name}), {name}[a:b].read(), e.g. "
            f"spykeflow.datasets.open(...)). Received: {type(ds).__name__}. For arrays in "
            "memory, wrap them with dask.array.from_array and call the encoder's transform.")
    n = len(ds)
    if n < 1:
        raise ValueError(f"Expected a dataset with at least one sample. Received: len({name})=0.")
    return n


def read_block(ds: Any, a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
    """Samples and labels ``a:b`` of ``ds`` (``ds[a:b].read()``)."""
    samples, labels = ds[a:b].read()
    return samples, np.asarray(labels)


def _encode_block(index: np.ndarray, ds: Any, encoder: Any, tail: tuple,
                  dtype: Any) -> np.ndarray:
    """One task of :func:`encode`: read the block's samples and encode them (on the worker)."""
    if index.size == 0:
        return np.empty((0, *tail), dtype)
    samples, _ = read_block(ds, int(index[0]), int(index[-1]) + 1)
    return encoder.transform(samples)


def encode(ds: Any, encoder: Any, chunk_size: int = 1000) -> Any:
    """Lazy spike trains of a whole dataset: a Dask array ``(N, T, H, W, C)``, one block per
    ``chunk_size`` samples, each read (``ds[a:b].read()``) and encoded on the worker that
    computes it.

    Parameters
    ----------
    ds : lazy dataset
        ``len(ds)``, ``ds[a:b].read() -> (samples, labels)`` and small when pickled (it enters
        the graph once), e.g. ``spykeflow.datasets.open("mnist", "test")``.
    encoder : InputLayer or EventEncoder
        Any encoder whose ``transform(samples)`` gives ``(n, T, H, W, C)``; it enters the graph
        once, as a copy with ``progress=False`` and ``n_jobs=1``.
    chunk_size : int, default=1000
        Samples per block (per task).

    Returns
    -------
    dask.array.Array
        Nothing is read or computed now except the first sample, which gives the shape and
        dtype. ``encode(ds, enc, k).compute()`` equals ``enc.transform(ds.read()[0])``.
    """
    da = require_dask()
    import dask

    n = check_dataset(ds)
    check_int(chunk_size, "chunk_size")
    model = worker_copy(encoder)
    probe = np.asarray(model.transform(read_block(ds, 0, 1)[0]))
    tail = probe.shape[1:]
    index = da.arange(n, chunks=chunk_size)
    return da.map_blocks(
        _encode_block, index, dask.delayed(ds, pure=True), dask.delayed(model, pure=True),
        tail, probe.dtype, dtype=probe.dtype, chunks=(index.chunks[0], *((k,) for k in tail)),
        new_axis=list(range(1, probe.ndim)), meta=np.empty((0,) * probe.ndim, probe.dtype),
        token=f"encode-{type(encoder).__name__.lower()}")
