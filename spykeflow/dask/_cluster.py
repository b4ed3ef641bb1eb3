"""A local Dask cluster set up for SpykeFlow's work: :func:`local_cluster`."""

from __future__ import annotations

from typing import Any

from spykeflow._lazy import require_dask
from spykeflow._validation import check_int

__all__ = ["local_cluster", "WORKER_ENV"]

#: Environment that :func:`local_cluster` gives its worker processes, on top of Dask's own
#: ``distributed.nanny.pre-spawn-environ`` (None removes a variable). Dask sets
#: ``MALLOC_TRIM_THRESHOLD_=65536`` so that workers hand freed memory back to the OS; setting
#: it also switches off glibc's adaptive mmap threshold, so every large array (a block of
#: spike trains is ~17 MB per 1,000 images) is mapped fresh and page-faulted again: encode +
#: transform then ran 1.45x slower (0.265 against 0.182 s per 1,000 MNIST images, one core).
#: Blocks here are a few tens of MB, so keeping freed memory for the next block costs little.
WORKER_ENV: dict[str, Any] = {"MALLOC_TRIM_THRESHOLD_": None}


def local_cluster(n_workers: int, threads_per_worker: int = 1, **kwargs: Any) -> Any:
    """A ``distributed.LocalCluster`` of ``n_workers`` processes on 127.0.0.1 (no dashboard)
    whose workers run SpykeFlow's kernels at full speed (``WORKER_ENV`` in this module).

    Parameters
    ----------
    n_workers : int
        Worker processes.
    threads_per_worker : int, default=1
        Threads per worker; each task runs its chunk on one thread (the worker copies of the
        models use ``n_jobs=1``), so more threads than cores only add contention.
    **kwargs
        Passed on to ``LocalCluster`` (e.g. ``memory_limit``, ``dashboard_address=":8787"``).

    Returns
    -------
    distributed.LocalCluster
        Close it (``with local_cluster(2) as cluster, Client(cluster) as client: ...``).
    """
    require_dask()
    import dask
    from distributed import LocalCluster

    check_int(n_workers, "n_workers", minimum=1)
    check_int(threads_per_worker, "threads_per_worker", minimum=1)
    options = dict(processes=True, host="127.0.0.1", dashboard_address=None) | kwargs
    env = {f"distributed.nanny.pre-spawn-environ.{k}": v for k, v in WORKER_ENV.items()}
    with dask.config.set(env):  # read by each Nanny when the cluster creates it
        return LocalCluster(n_workers=n_workers, threads_per_worker=threads_per_worker,
                            **options)
