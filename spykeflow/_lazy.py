"""Dask arrays in the core classes: the one dispatch rule that ``InputLayer.transform``,
``InputLayer.transform_compact`` and ``Network.transform`` call.

A ``dask.array.Array`` input gives a lazy ``dask.array.Array`` output computed block by block
along the sample axis (the other axes are rechunked to one chunk), with the estimator in the
graph once (a single ``dask.delayed(copy, pure=True)`` node every block task depends on, so
the distributed scheduler ships one copy to each worker instead of one per task). Nothing is
imported from Dask unless a Dask array is passed: the core install works without it.
"""

from __future__ import annotations

import copy
import sys
from typing import Any

import numpy as np

__all__ = ["is_dask_array", "require_dask", "worker_copy", "map_samples"]

INSTALL_HINT = "pip install 'spykeflow[dask]'"


def is_dask_array(x: Any) -> bool:
    """Whether ``x`` is a ``dask.array.Array`` (False without importing Dask when it was never
    imported: nothing can be a Dask array then).

    >>> is_dask_array(np.zeros(3))
    False
    """
    module = sys.modules.get("dask.array")
    return module is not None and isinstance(x, module.Array)


def require_dask() -> Any:
    """Import and return ``dask.array``; a clear ``ImportError`` when Dask is missing."""
    try:
        import dask.array as da
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(
            "Expected Dask to be installed for Dask arrays and spykeflow.dask. Received: "
            f"ImportError({err}). Install the extra: {INSTALL_HINT}") from err
    return da


def worker_copy(obj: Any) -> Any:
    """The copy of ``obj`` that runs inside Dask tasks: a shallow copy (learned arrays are
    shared, not duplicated) with ``progress=False`` and ``n_jobs=1`` where ``obj`` has them,
    since Dask parallelises over blocks and a worker has no terminal to draw bars on."""
    out = copy.copy(obj)
    names = out.get_params(deep=False) if hasattr(out, "get_params") else {}
    out.set_params(**{k: v for k, v in (("progress", False), ("n_jobs", 1)) if k in names})
    return out


def _apply(block: np.ndarray, model: Any, method: str, kwargs: dict, tail: tuple,
           dtype: Any) -> np.ndarray:
    """One block task: ``model.method(block, **kwargs)`` (an empty block gives an empty result
    of the right shape, which the numpy methods refuse to compute)."""
    if block.shape[0] == 0:
        return np.empty((0, *tail), dtype)
    return getattr(model, method)(block, **kwargs)


def map_samples(obj: Any, method: str, x: Any, **kwargs: Any) -> Any:
    """Lazy ``obj.method(x, **kwargs)`` for a Dask array ``x``, block-wise along axis 0.

    The result's shape and dtype come from running the copy on one all-zero sample now (no
    data is read or computed); each block of ``x`` becomes one task. Results equal the numpy
    path's, sample for sample.
    """
    da = require_dask()
    import dask

    if x.ndim < 1:
        raise ValueError(f"Expected a Dask array with a sample axis. Received: shape={x.shape}.")
    x = x.rechunk({axis: -1 for axis in range(1, x.ndim)})
    model = worker_copy(obj)
    probe = np.asarray(getattr(model, method)(np.zeros((1, *x.shape[1:]), x.dtype), **kwargs))
    tail = probe.shape[1:]
    node = dask.delayed(model, pure=True)
    new_axes = list(range(x.ndim, probe.ndim)) if probe.ndim > x.ndim else None
    drop = list(range(probe.ndim, x.ndim)) if probe.ndim < x.ndim else []
    return da.map_blocks(
        _apply, x, node, method, kwargs, tail, probe.dtype,
        dtype=probe.dtype, chunks=(x.chunks[0], *((n,) for n in tail)),
        drop_axis=drop, new_axis=new_axes,
        meta=np.empty((0,) * probe.ndim, probe.dtype),
        token=f"{type(obj).__name__.lower()}-{method}")
