"""The embedded scikit-learn 8x8 digits, upscaled to MNIST-like 28x28 images (no files needed).

scikit-learn ships 1,797 handwritten digits as 8x8 images with values 0-16
(:func:`sklearn.datasets.load_digits`). They are turned into MNIST-like images: values scaled to
0-255, the 8x8 grid upscaled to a ``box`` x ``box`` square by bilinear interpolation (pixel
centres aligned, as PIL does), and centred in a ``size`` x ``size`` frame with a blank margin,
the way MNIST digits sit in a 20x20 box centred in 28x28. The train/test split is stratified by
class and seeded, so the same ``seed`` always gives the same split.
"""

from __future__ import annotations

import functools

import numpy as np
from numpy.typing import ArrayLike

from .._validation import check_float, check_in, check_int
from ._common import PathLike
from .lazy import LazyDataset, SampleSource

__all__ = ["load_digits", "open_digits", "upscale_digits", "bilinear_matrix",
           "stratified_test_mask"]


def upscale_digits(images: ArrayLike, size: int = 28, box: int = 20) -> np.ndarray:
    """Upscale 8x8 digit images with values 0-16 to uint8 ``(N, size, size)`` with values 0-255.

    Parameters
    ----------
    images : array-like, shape (N, h, w)
        Values 0-16 (scikit-learn's digits).
    size : int
        Side of the output frame.
    box : int
        Side of the square the digit is resized to (``box <= size``); the rest is margin,
        split evenly (the extra pixel, if any, goes to the bottom/right).

    Returns
    -------
    uint8 array, shape (N, size, size)

    Examples
    --------
    >>> img = np.zeros((1, 8, 8)); img[0, 2:6, 2:6] = 16
    >>> out = upscale_digits(img)
    >>> out.shape, int(out.max()), int(out[0, :4].max()), int(out[0, 14, 14])
    ((1, 28, 28), 255, 0, 255)
    """
    size = check_int(size, "size")
    box = check_int(box, "box")
    if box > size:
        raise ValueError(f"Expected box <= size. Received: box={box}, size={size}.")
    images = np.asarray(images, dtype=np.float64)
    if images.ndim != 3:
        raise ValueError(f"Expected images of shape (N, h, w). Received: shape={images.shape}.")
    rows = bilinear_matrix(images.shape[1], box)
    cols = bilinear_matrix(images.shape[2], box)
    big = rows @ (images * (255.0 / 16.0)) @ cols.T
    out = np.zeros((images.shape[0], size, size), dtype=np.uint8)
    top = (size - box) // 2
    out[:, top : top + box, top : top + box] = np.clip(np.rint(big), 0, 255)
    return out


def bilinear_matrix(n_in: int, n_out: int) -> np.ndarray:
    """Matrix ``(n_out, n_in)`` of separable bilinear (triangle-filter) resampling weights.

    Pixel centres are aligned (output pixel ``i`` sits at input coordinate
    ``(i + 0.5) * n_in / n_out - 0.5``), weights near the border are renormalised, and when
    shrinking the triangle is widened by the scale factor (anti-aliasing) -- the same
    convention as Pillow's ``BILINEAR`` resize.

    >>> bilinear_matrix(2, 4).round(3).tolist()
    [[1.0, 0.0], [0.75, 0.25], [0.25, 0.75], [0.0, 1.0]]
    """
    scale = n_in / n_out
    support = max(scale, 1.0)
    centres = (np.arange(n_out) + 0.5) * scale
    dist = (np.arange(n_in)[None, :] + 0.5 - centres[:, None]) / support
    weights = np.clip(1.0 - np.abs(dist), 0.0, None)
    return weights / weights.sum(axis=1, keepdims=True)


def load_digits(split: str = "train", root: PathLike | None = None, test_size: float = 0.2,
                seed: int = 0, size: int = 28, box: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """Load scikit-learn's 8x8 digits as MNIST-like uint8 28x28 images.

    Parameters
    ----------
    split : {"train", "test", "all"}
        Stratified, seeded split (``test_size`` of every class goes to "test").
    root : ignored
        Accepted for a uniform :func:`spykeflow.datasets.load` signature; no files are read.
    test_size : float
        Fraction of every class in the test split, in (0, 1). Default 0.2 (1,438 train /
        359 test); see ``stratified_test_mask``.
    seed : int
        Seed of the split (>= 0); the same seed always gives the same split.
    size, box : int
        Output frame and digit box sizes (see ``upscale_digits``).

    Returns
    -------
    images : uint8 array, shape (N, size, size)
    labels : int64 array, shape (N,)
    """
    return open_digits(split, root, test_size, seed, size, box).read()


def open_digits(split: str = "train", root: PathLike | None = None, test_size: float = 0.2,
                seed: int = 0, size: int = 28, box: int = 20) -> LazyDataset:
    """The upscaled digits as a :class:`~spykeflow.datasets.LazyDataset` (see
    :func:`load_digits`); images are upscaled when read."""
    check_in(split, "split", ("train", "test", "all"))
    test_size = check_float(test_size, "test_size", 0, 1, low_open=True, high_open=True)
    seed = check_int(seed, "seed", minimum=0)
    size = check_int(size, "size")
    box = check_int(box, "box")
    if box > size:
        raise ValueError(f"Expected box <= size. Received: box={box}, size={size}.")
    chosen = None
    if split != "all":
        test_mask = stratified_test_mask(_sklearn_digits()[1], test_size, seed)
        chosen = np.flatnonzero(test_mask if split == "test" else ~test_mask)
    return LazyDataset(_DigitsSource(split, chosen, size, box))


@functools.lru_cache(maxsize=1)
def _sklearn_digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 8x8 images (0-16) and int64 labels (read once per process)."""
    from sklearn.datasets import load_digits as _sk_load_digits

    bunch = _sk_load_digits()
    return bunch.images, bunch.target.astype(np.int64)


class _DigitsSource(SampleSource):
    def __init__(self, split: str, chosen: np.ndarray | None, size: int, box: int) -> None:
        self.name = "digits"
        self.split = split
        self.chosen = chosen
        self.size = size
        self.box = box
        self.sample_shape = (size, size)
        self.sample_dtype = np.dtype(np.uint8)

    def _members(self, positions: np.ndarray | slice) -> np.ndarray | slice:
        return positions if self.chosen is None else self.chosen[positions]

    def __len__(self) -> int:
        return len(_sklearn_digits()[1]) if self.chosen is None else len(self.chosen)

    def labels(self) -> np.ndarray:
        return _sklearn_digits()[1][self._members(slice(None))]

    def read(self, positions: np.ndarray, progress: bool | None = None) -> np.ndarray:
        images = _sklearn_digits()[0][self._members(positions)]
        return upscale_digits(images, size=self.size, box=self.box)


def stratified_test_mask(labels: ArrayLike, test_size: float, seed: int) -> np.ndarray:
    """Boolean mask choosing ``round(test_size * n_c)`` samples of every class ``c`` for test.

    One ``numpy.random.default_rng(seed)`` permutes the members of each class in ascending
    class order, so the split depends only on ``labels``, ``test_size`` and ``seed`` (not on
    library versions).

    >>> int(stratified_test_mask(np.array([0, 0, 0, 0, 1, 1]), 0.5, seed=0).sum())
    3
    """
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    mask = np.zeros(labels.shape[0], dtype=bool)
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        n_test = int(round(test_size * members.size))
        mask[rng.permutation(members)[:n_test]] = True
    return mask
