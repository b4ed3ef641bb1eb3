"""Small writers of synthetic dataset files for the loader tests."""

import gzip
import pathlib
import struct

import numpy as np


def idx_bytes(arr, type_code=0x08):
    """Encode ``arr`` as an IDX file (uint8 by default)."""
    arr = np.asarray(arr)
    dtypes = {0x08: "u1", 0x09: "i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
    header = bytes([0, 0, type_code, arr.ndim]) + b"".join(struct.pack(">I", s) for s in arr.shape)
    return header + arr.astype(dtypes[type_code]).tobytes()


def write_idx(path, arr, compress=True):
    data = idx_bytes(arr)
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def write_mnist(folder, n_train=5, n_test=3, seed=0, compress=True, prefix=None):
    """Write a tiny MNIST-layout dataset; returns the arrays written."""
    rng = np.random.default_rng(seed)
    folder = pathlib.Path(folder)
    out = {}
    for split, n in (("train", n_train), ("t10k", n_test)):
        x = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        y = rng.integers(0, 10, size=n, dtype=np.uint8)
        ext = ".gz" if compress else ""
        write_idx(folder / f"{split}-images-idx3-ubyte{ext}", x, compress)
        write_idx(folder / f"{split}-labels-idx1-ubyte{ext}", y, compress)
        out[split] = (x, y)
    return out


def snapshot(folder):
    """Names, sizes and mtimes of every file below ``folder`` (to prove nothing was written)."""
    folder = pathlib.Path(folder)
    return sorted((str(p.relative_to(folder)), p.stat().st_size, p.stat().st_mtime_ns)
                  for p in folder.rglob("*"))
