"""Image folders: the Caltech faces vs motorbikes task (Kheradpisheh et al. 2018).

Layout under ``<root>/caltech_face_motor/``::

    LearningSet/{Face,Motor}/*.jpg       474 images: unsupervised STDP feature learning
    TrainingSet/{Face,Motor}/*.jpg       400 images: readout training (subset of LearningSet) --
      or TrainingSet_subset_of_LearningSet.txt   the same 400 as paths relative to LearningSet/
    TestingSet/{Face,Motor}/*.jpg        396 images: test

Labels: 0 = Face, 1 = Motor. Images are decoded with Pillow and converted to 8-bit grey.
"""

from __future__ import annotations

import functools
import os
import pathlib

import numpy as np

from .._validation import check_in, check_int_tuple
from ._common import (
    DatasetFormatError,
    DatasetNotFoundError,
    PathLike,
    data_root,
    not_found,
)
from .lazy import FileSource, LazyDataset

__all__ = ["load_caltech_face_motor", "open_caltech_face_motor", "read_grey_image",
           "CALTECH_CLASSES"]

#: Class names in label order.
CALTECH_CLASSES = ("Face", "Motor")
_IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".pgm", ".tif", ".tiff", ".gif"}
_TRAIN_LIST = "TrainingSet_subset_of_LearningSet.txt"
_HOW_TO_GET = (
    "the Caltech faces and motorbikes (Caltech 101, CC BY 4.0) as preprocessed grey JPEGs for "
    "Kheradpisheh et al. 2018 (e.g. the datasets/ folder of github.com/npvoid/SDNN_python): put "
    "LearningSet/{Face,Motor}/ and TestingSet/{Face,Motor}/ (and TrainingSet/ or "
    f"{_TRAIN_LIST}) into <root>/caltech_face_motor/."
)
_RESAMPLE = ("nearest", "box", "bilinear", "hamming", "bicubic", "lanczos")


def read_grey_image(path: PathLike, size: int | tuple[int, int] | None = None,
                    resample: str = "bilinear") -> np.ndarray:
    """Decode an image file into a uint8 grey array ``(h, w)``.

    Parameters
    ----------
    path : str or os.PathLike
    size : int or (int, int), optional
        ``(height, width)`` to resize to (one int: a square), with Pillow's ``resample``
        filter.
    resample : str
        One of ``nearest, box, bilinear, hamming, bicubic, lanczos``.

    Raises
    ------
    DatasetFormatError
        The file cannot be decoded as an image (the message names the file).
    DatasetNotFoundError
        The file does not exist.
    """
    from PIL import Image

    size = None if size is None else check_int_tuple(size, "size", 2)
    check_in(resample, "resample", _RESAMPLE)
    path = pathlib.Path(path)
    if not path.is_file():
        raise DatasetNotFoundError(f"Image file not found: {path}")
    try:
        with Image.open(path) as img:
            img.load()
            grey = img.convert("L")
    except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError) as exc:
        raise DatasetFormatError(
            f"{path}: unreadable image ({type(exc).__name__}: {exc}). The file is corrupt, "
            "truncated or not an image; replace it with a good copy."
        ) from None
    if size is not None:
        method = getattr(Image.Resampling, resample.upper())
        grey = grey.resize((size[1], size[0]), method)
    return np.asarray(grey, dtype=np.uint8).copy()


def _class_folder_files(split_dir: pathlib.Path) -> list[tuple[pathlib.Path, int]]:
    """Sorted (path, label) pairs from ``split_dir/{Face,Motor}/``."""
    items = []
    for label, cls in enumerate(CALTECH_CLASSES):
        sub = split_dir / cls
        if not sub.is_dir():
            raise DatasetNotFoundError(
                f"Dataset 'caltech_face_motor': class folder {sub} is missing "
                f"(expected {split_dir}/Face/ and {split_dir}/Motor/)."
            )
        files = sorted(p for p in sub.iterdir()
                       if p.suffix.lower() in _IMAGE_SUFFIXES and not p.name.startswith("."))
        items += [(p, label) for p in files]
    return items


def _list_files(list_path: pathlib.Path,
                learning_dir: pathlib.Path) -> list[tuple[pathlib.Path, int]]:
    """(path, label) pairs from the TrainingSet list (paths relative to LearningSet/)."""
    items = []
    text = list_path.read_bytes().decode("utf-8", errors="replace")
    for lineno, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        rel = pathlib.PurePosixPath(line.replace("\\", "/"))
        if rel.is_absolute() or ".." in rel.parts or len(rel.parts) != 2 \
                or rel.parts[0] not in CALTECH_CLASSES:
            raise DatasetFormatError(
                f"{list_path}, line {lineno}: expected a path 'Face/<file>' or 'Motor/<file>' "
                f"relative to LearningSet/, got {line!r}."
            )
        path = learning_dir / rel
        if not path.is_file():
            raise DatasetNotFoundError(
                f"Dataset 'caltech_face_motor': {list_path} (line {lineno}) lists {path}, "
                "which does not exist."
            )
        items.append((path, CALTECH_CLASSES.index(rel.parts[0])))
    if not items:
        raise DatasetFormatError(f"{list_path}: the list names no images.")
    return items


def load_caltech_face_motor(
    split: str = "train", root: PathLike | None = None,
    size: int | tuple[int, int] | None = None, resample: str = "bilinear",
    progress: bool | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Load the Caltech faces (label 0) vs motorbikes (label 1) images.

    Parameters
    ----------
    split : {"learn", "train", "test"}
        ``"learn"``: LearningSet (237 + 237), for unsupervised feature learning;
        ``"train"``: the 200 + 200 readout training images (a real ``TrainingSet/`` folder if
        present, else the list ``TrainingSet_subset_of_LearningSet.txt`` into LearningSet);
        ``"test"``: TestingSet (198 + 198).
    root : path, optional
    size : int or (int, int), optional
        ``(height, width)`` (one int: a square): resize every image (Pillow, ``resample``
        filter) and return one uint8 array. ``None`` keeps the original sizes.
    resample : str
        Pillow filter for ``size``: nearest, box, bilinear (default), hamming, bicubic, lanczos.
    progress : bool, optional
        Show a progress bar (default ``None``: only on an interactive terminal).

    Returns
    -------
    images : object array (N,) of uint8 (h_i, w_i) arrays, or uint8 array (N, h, w) with ``size``
    labels : int64 array, shape (N,)
        Faces first, then motorbikes, each sorted by file name.
    """
    return open_caltech_face_motor(split, root, size, resample).read(progress)


def open_caltech_face_motor(split: str = "train", root: PathLike | None = None,
                            size: int | tuple[int, int] | None = None,
                            resample: str = "bilinear") -> LazyDataset:
    """The Caltech faces vs motorbikes as a :class:`~spykeflow.datasets.LazyDataset` (see
    :func:`load_caltech_face_motor`): files are listed now, each image decoded when asked for.
    ``sample_shape`` is ``size``, or None (images of different sizes) without it."""
    check_in(split, "split", ("learn", "train", "test"))
    size = None if size is None else check_int_tuple(size, "size", 2)
    check_in(resample, "resample", _RESAMPLE)
    folder = data_root(root) / "caltech_face_motor"
    learning = folder / "LearningSet"
    if split == "learn":
        candidates = [learning]
    elif split == "test":
        candidates = [folder / "TestingSet"]
    else:
        candidates = [folder / "TrainingSet", folder / _TRAIN_LIST]
    if split == "train" and candidates[0].is_dir():
        items = _class_folder_files(candidates[0])
    elif split == "train" and candidates[1].is_file():
        items = _list_files(candidates[1], learning)
    elif split != "train" and candidates[0].is_dir():
        items = _class_folder_files(candidates[0])
    else:
        raise not_found("caltech_face_motor", candidates, _HOW_TO_GET, root=root,
                        what=f"{split!r} split")
    reader = functools.partial(read_grey_image, size=size, resample=resample)
    return LazyDataset(FileSource(
        "caltech_face_motor", split, folder, [os.path.relpath(p, folder) for p, _ in items],
        [label for _, label in items], reader, np.uint8, size,
    ))
