"""CPU threads: the one ``n_jobs`` rule of the toolkit, and the context that applies it to
Numba's kernels.

``n_jobs`` has scikit-learn's meaning (its glossary, "n_jobs"): ``None`` is 1 unless the call
runs inside a :func:`joblib.parallel_config` context that sets ``n_jobs``; ``-1`` is all CPUs
of the process (its affinity mask and cgroup quota, as :func:`joblib.cpu_count` counts them);
a negative ``n_jobs`` is ``n_cpus + 1 + n_jobs`` (``-2``: all but one), never below 1; ``0``
is an error. Results never depend on it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from ._validation import is_int

__all__ = ["check_n_jobs", "effective_n_jobs", "numba_thread_count", "numba_threads"]

#: Samples a Numba thread takes at a time from a ``prange`` loop inside :func:`numba_threads`
#: (dynamic scheduling: a thread that is slowed down, e.g. by another process on its core,
#: does not hold up the others; equal static shares did).
CHUNK = 8


def check_n_jobs(n_jobs: Any, name: str = "n_jobs") -> Any:
    """Validate ``n_jobs`` (None or a non-zero integer); returns it unchanged.

    >>> check_n_jobs(-2)
    -2
    >>> check_n_jobs(0)
    Traceback (most recent call last):
    ...
    ValueError: Expected n_jobs to be None, a positive number of threads, -1 (all CPUs) or ...
    """
    if n_jobs is None or (is_int(n_jobs) and n_jobs != 0):
        return n_jobs
    raise ValueError(
        f"Expected {name} to be None, a positive number of threads, -1 (all CPUs) or another "
        f"negative integer (n_cpus + 1 + {name}), as in scikit-learn. Received: "
        f"{name}={n_jobs!r}.")


def effective_n_jobs(n_jobs: Any, name: str = "n_jobs") -> int:
    """The number of threads ``n_jobs`` stands for on this machine, now (>= 1).

    >>> effective_n_jobs(None), effective_n_jobs(1)
    (1, 1)
    >>> import joblib
    >>> effective_n_jobs(-1) == joblib.cpu_count()
    True
    >>> with joblib.parallel_config(n_jobs=3):
    ...     effective_n_jobs(None)
    3
    """
    import joblib

    check_n_jobs(n_jobs, name)
    return max(1, int(joblib.effective_n_jobs(None if n_jobs is None else int(n_jobs))))


def numba_thread_count(n_jobs: Any, name: str = "n_jobs") -> int:
    """The threads :func:`numba_threads` runs for ``n_jobs``: :func:`effective_n_jobs`, at
    most Numba's pool (``NUMBA_NUM_THREADS``)."""
    import numba

    pool = int(numba.config.NUMBA_NUM_THREADS)  # type: ignore[attr-defined]
    return min(effective_n_jobs(n_jobs, name), pool)


@contextlib.contextmanager
def numba_threads(n_jobs: Any, name: str = "n_jobs") -> Iterator[int]:
    """Run the Numba ``parallel=True`` kernels called inside the block on ``n_jobs`` threads
    (at most Numba's pool, ``NUMBA_NUM_THREADS``), taking :data:`CHUNK` iterations at a time;
    the calling thread's previous settings are restored afterwards. Yields the thread
    count used.

    >>> import numba
    >>> before = numba.get_num_threads()
    >>> with numba_threads(1) as n:
    ...     n, numba.get_num_threads()
    (1, 1)
    >>> numba.get_num_threads() == before
    True
    """
    import numba

    n = numba_thread_count(n_jobs, name)
    previous = numba.get_num_threads()
    numba.set_num_threads(n)
    previous_chunk = numba.set_parallel_chunksize(CHUNK)
    try:
        yield n
    finally:
        numba.set_parallel_chunksize(previous_chunk)
        numba.set_num_threads(previous)
