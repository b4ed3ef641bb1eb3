"""The embedded scikit-learn 8x8 digits, upscaled to MNIST-like 28x28 images (no files needed).

scikit-learn ships 1,797 handwritten digits as 8x8 images with values 0-16
(:func:`sklearn.datasets.load_digits`). They are turned into MNIST-like images: values scaled to
0-255, the 8x8 grid upscaled to a ``box`` x ``box`` square by bilinear interpolation (pixel
centres aligned, as PIL does), and centred in a ``size`` x ``size`` frame with a blank margin,
the way MNIST digits sit in a 20x20 box centred in 28x28. The train/test split is stratified by
class and seeded, so the same ``seed`` always gives the same split.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_positive_int
from ._common import check_split

__all__ = ["load_digits", "upscale_digits"]


def upscale_digits(images, size=28, box=20):
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
    from PIL import Image

    size = check_positive_int(size, "size")
    box = check_positive_int(box, "box")
    if box > size:
        raise ValueError(f"Expected box <= size. Received: box={box}, size={size}.")
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 3:
        raise ValueError(f"Expected images of shape (N, h, w). Received: shape={images.shape}.")
    out = np.zeros((images.shape[0], size, size), dtype=np.uint8)
    top = (size - box) // 2
    for i, img in enumerate(images * (255.0 / 16.0)):
        big = Image.fromarray(img, mode="F").resize((box, box), Image.Resampling.BILINEAR)
        out[i, top : top + box, top : top + box] = np.clip(np.rint(np.asarray(big)), 0, 255)
    return out


def load_digits(split="train", root=None, test_size=0.2, seed=0, size=28, box=20):
    """Load scikit-learn's 8x8 digits as MNIST-like uint8 28x28 images.

    Parameters
    ----------
    split : {"train", "test", "all"}
        Stratified, seeded split (``test_size`` of every class goes to "test").
    root : ignored
        Accepted for a uniform :func:`spykeflow.datasets.load` signature; no files are read.
    test_size : float
        Fraction of samples in the test split, in (0, 1). Default 0.2 (1,437 train / 360 test).
    seed : int
        Seed of the split; the same seed always gives the same split.
    size, box : int
        Output frame and digit box sizes (see :func:`upscale_digits`).

    Returns
    -------
    images : uint8 array, shape (N, size, size)
    labels : int64 array, shape (N,)
    """
    from sklearn.datasets import load_digits as _sk_load_digits
    from sklearn.model_selection import train_test_split

    check_split(split, ("train", "test", "all"), "digits")
    if not isinstance(test_size, float) or not 0.0 < test_size < 1.0:
        raise ValueError(
            f"Expected test_size to be a float in (0, 1). Received: test_size={test_size!r}."
        )
    bunch = _sk_load_digits()
    images = upscale_digits(bunch.images, size=size, box=box)
    labels = bunch.target.astype(np.int64)
    if split == "all":
        return images, labels
    idx = np.arange(labels.size)
    train_idx, test_idx = train_test_split(
        idx, test_size=test_size, random_state=seed, stratify=labels
    )
    chosen = np.sort(train_idx if split == "train" else test_idx)
    return images[chosen], labels[chosen]
