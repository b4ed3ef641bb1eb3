"""Byte ranges of raw or gzip-compressed files, for the lazy IDX reader.

A raw file is opened, seeked and read for every range (no handle is kept). A gzip stream has no
random access: a per-process cache keeps one open ``gzip.GzipFile`` per path (reopened when
the file changed on disk), which seeks forward by decompressing and discarding, and rewinds to
the start of the stream (then seeks forward again) when asked for an earlier offset. Reading
ranges in increasing order thus decompresses the file about once; every backward jump costs up
to one more pass over the stream. Handles are never pickled: a process that forks or
unpickles a dataset opens its own.
"""

from __future__ import annotations

import gzip
import os
import threading
from collections import OrderedDict
from typing import BinaryIO

from ._common import GZIP_ERRORS, corrupt_gzip

__all__ = ["is_gzip", "read_bytes", "gzip_isize", "stats", "close_all"]

#: Open gzip handles kept per process (least recently used ones are closed beyond this).
MAX_HANDLES = 8

#: Per-process counters: gzip handles ``opened`` and ``rewinds`` (reads before the position).
stats = {"opened": 0, "rewinds": 0}

_lock = threading.Lock()
_handles: OrderedDict[str, tuple[tuple, BinaryIO, threading.Lock]] = OrderedDict()


def is_gzip(path: str) -> bool:
    """True when the file starts with the gzip magic bytes ``1f 8b``."""
    with open(path, "rb") as fh:
        return fh.read(2) == b"\x1f\x8b"


def gzip_isize(path: str) -> int:
    """The ISIZE trailer of a gzip file: uncompressed size of its last member modulo 2**32."""
    with open(path, "rb") as fh:
        fh.seek(-4, os.SEEK_END)
        return int.from_bytes(fh.read(4), "little")


def _open_gzip(path: str) -> BinaryIO:
    return gzip.GzipFile(path, "rb")  # type: ignore[return-value]


def _signature(path: str) -> tuple[int, int, int, int]:
    """Who opens the file and which version of it: process id, inode, size, mtime."""
    st = os.stat(path)
    return os.getpid(), st.st_ino, st.st_size, st.st_mtime_ns


def _handle(path: str) -> tuple[tuple, BinaryIO, threading.Lock]:
    signature = _signature(path)
    with _lock:
        entry = _handles.get(path)
        if entry is None or entry[0] != signature:  # absent, inherited by fork, or rewritten
            if entry is not None:
                _drop(path)
            entry = (signature, _open_gzip(path), threading.Lock())
            stats["opened"] += 1
            _handles[path] = entry
            while len(_handles) > MAX_HANDLES:
                _drop(next(iter(_handles)))
        _handles.move_to_end(path)
    return entry


def _drop(path: str) -> None:
    entry = _handles.pop(path, None)
    if entry is not None and entry[0][0] == os.getpid():  # never close a parent's handle
        with entry[2]:
            entry[1].close()


def close_all() -> None:
    """Close this process's cached gzip handles (they reopen on the next read)."""
    with _lock:
        for path in list(_handles):
            _drop(path)


def read_bytes(path: str, gz: bool, offset: int, size: int, to_end: bool = False) -> bytes:
    """Up to ``size`` bytes at ``offset`` of the (decompressed) file.

    With ``to_end`` a gzip stream is also read to its end, which checks its CRC. A corrupt
    stream raises :class:`~spykeflow.datasets.DatasetFormatError` naming the file.
    """
    if not gz:
        with open(path, "rb") as raw:
            raw.seek(offset)
            return raw.read(size)
    _, fh, lock = _handle(path)
    error = None
    with lock:
        try:
            if offset < fh.tell():
                stats["rewinds"] += 1
            fh.seek(offset)
            data = fh.read(size)
            if to_end:
                fh.read()
        except GZIP_ERRORS as exc:
            error = exc
    if error is not None:
        with _lock:
            entry = _handles.get(path)
            if entry is not None and entry[1] is fh:
                _drop(path)
        raise corrupt_gzip(path, error) from None
    return data
