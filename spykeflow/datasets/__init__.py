"""Dataset loaders: ``load(name, split="train", root=None, **options) -> (samples, labels)``,
and lazily ``open(name, split="train", root=None, **options) -> LazyDataset``.

The data root is resolved by :func:`data_root`: explicit ``root`` argument, then
``$SPYKEFLOW_DATA``, then ``./AllDataSets``. Each dataset lives in its own folder under the root
(see ``AllDataSets/README.md``). Loading only reads; nothing is ever written into the data
folder. :func:`download` fetches MNIST, Fashion-MNIST and EMNIST Balanced for users with
internet access.

====================== ============ ==========================================================
name (aliases)         splits       samples, labels
====================== ============ ==========================================================
``mnist``              train, test  uint8 (N, 28, 28); int64 digit
``fashion_mnist``      train, test  uint8 (N, 28, 28); int64 class 0-9
(``fashion``)
``emnist_balanced``    train, test  uint8 (N, 28, 28) upright; int64 class 0-46
(``emnist``)                        (:func:`emnist_mapping` gives the characters)
``caltech_face_motor`` learn,       object array of uint8 2-D images (or uint8 (N, h, w)
(``facebike``)         train, test  with ``size=(h, w)``); int64 0 = Face, 1 = Motor
``nmnist``             train, test  object array of ``EVENT_DTYPE`` arrays; int64 digit
``fsdd``               train, test, object array of float32 1-D waveforms in [-1, 1]
                       all          (8 kHz); int64 digit
``soli``               all (train,  float32 (T, 4, 32, 32) range-Doppler sequences (object
                       test with a  array); int64 gesture id
                       split file)
``digits``             train, test, uint8 (N, 28, 28) upscaled scikit-learn 8x8 digits;
                       all          int64 digit (no files needed)
====================== ============ ==========================================================

``open`` takes the same names and options and returns a :class:`LazyDataset` that has indexed
the files (a missing dataset fails here) but read no sample: ``len(ds)``, ``ds[i] -> (sample,
label)``, views ``ds[a:b]`` / ``ds[indices]``, ``ds.read()`` (equal to ``load`` for that
subset), ``ds.labels`` without reading samples, ``ds.to_pydataset(batch_size, transform)`` for
Keras and ``ds.to_tf_dataset()``. It pickles to paths and positions (for Dask or worker
processes). How each format is read lazily:

====================== ==================================================================
name                   lazy reading
====================== ==================================================================
``mnist``,             IDX: raw files by seek per range of samples; ``.gz`` files through
``fashion_mnist``,     a per-process gzip handle that only seeks forward (increasing ranges
``emnist_balanced``    decompress the file once, an earlier range rewinds: one more pass)
``nmnist``, ``fsdd``,  one file per sample, read when asked for; labels from the table,
``caltech_face_motor`` folder or file names
``soli``
``digits``             the embedded 8x8 images, upscaled when read
``sequences``          random draws of all clips made once per process; each clip rendered
                       from its lazily read MNIST digit (``cache`` is ``load``-only)
====================== ==================================================================

Datasets of the optional package tonic (``pip install tonic``) plug in through
:func:`from_tonic`: ``from_tonic(tonic.datasets.NMNIST(...))`` gives ``(events, label)``
samples with SpykeFlow's ``sensor_size=(height, width)`` (:mod:`spykeflow.tonic_plugin`).

Common options: ``root`` (the data root, see :func:`data_root`), ``split``, ``progress`` (a
progress bar: ``True``, ``False``, or ``None`` = only on an interactive terminal, the default)
and ``seed`` (for the loaders that draw random numbers).

Errors: a missing folder or file raises :class:`DatasetNotFoundError` (a
``FileNotFoundError``) saying where it looked and how to get the data; a file with invalid
content raises :class:`DatasetFormatError` (a ``ValueError``) naming the file and the problem.

Examples
--------
>>> import spykeflow.datasets as ds
>>> ds.known()[:3]
['caltech_face_motor', 'digits', 'emnist_balanced']
>>> x, y = ds.load("digits", split="test")
>>> x.shape, x.dtype, y.dtype
((359, 28, 28), dtype('uint8'), dtype('int64'))
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

import numpy as np

from ._common import ALIASES, DatasetFormatError, DatasetNotFoundError, PathLike, data_root
from ._common import canonical_name as _canonical_name
from .idx import emnist_mapping, load_emnist_balanced, load_fashion_mnist, load_mnist, read_idx
from .lazy import LazyDataset
from .nmnist import EVENT_DTYPE, encode_nmnist_events, load_nmnist, read_nmnist_events
from .remote import ChecksumError, DownloadError, download
from .tonic_adapter import TonicSource, from_tonic

__all__ = [
    "load",
    "open",
    "LazyDataset",
    "known",
    "aliases",
    "data_root",
    "download",
    "DatasetNotFoundError",
    "DatasetFormatError",
    "ChecksumError",
    "DownloadError",
    "EVENT_DTYPE",
    "read_idx",
    "read_nmnist_events",
    "encode_nmnist_events",
    "from_tonic",
    "TonicSource",
    "emnist_mapping",
    "fsdd_metadata",
    "soli_metadata",
    "load_mnist",
    "load_fashion_mnist",
    "load_emnist_balanced",
    "load_nmnist",
    "load_caltech_face_motor",
    "load_fsdd",
    "load_soli",
    "load_digits",
]

# name -> (module, loader function); modules with heavy imports (PIL, scipy, h5py, sklearn)
# are imported only when their dataset is loaded.
_REGISTRY = {
    "mnist": ("idx", "load_mnist"),
    "fashion_mnist": ("idx", "load_fashion_mnist"),
    "emnist_balanced": ("idx", "load_emnist_balanced"),
    "caltech_face_motor": ("images", "load_caltech_face_motor"),
    "nmnist": ("nmnist", "load_nmnist"),
    "fsdd": ("audio", "load_fsdd"),
    "soli": ("soli", "load_soli"),
    "digits": ("digits", "load_digits"),
    "sequences": ("sequence_loader", "load_sequences"),
}
_LAZY = {
    "load_caltech_face_motor": "images",
    "load_fsdd": "audio",
    "fsdd_metadata": "audio",
    "load_soli": "soli",
    "soli_metadata": "soli",
    "load_digits": "digits",
}


def known() -> list[str]:
    """Sorted canonical dataset names accepted by :func:`load` (aliases: :func:`aliases`).

    >>> "mnist" in known()
    True
    """
    return sorted(_REGISTRY)


def aliases() -> dict[str, str]:
    """Mapping of alias -> canonical dataset name.

    >>> aliases()["fashion"]
    'fashion_mnist'
    """
    return dict(ALIASES)


def _canonical(name: str) -> str:
    key = _canonical_name(name)
    if key not in _REGISTRY:
        alias_text = ", ".join(f"{a} -> {c}" for a, c in sorted(ALIASES.items()))
        raise ValueError(
            f"Unknown dataset name {name!r}. Known datasets: {', '.join(known())} "
            f"(aliases: {alias_text})."
        )
    return key


def load(name: str, split: str = "train", root: PathLike | None = None,
         **options: Any) -> tuple[np.ndarray, np.ndarray]:
    """Load a dataset as ``(samples, labels)`` numpy arrays.

    Parameters
    ----------
    name : str
        One of :func:`known` or an alias (case-insensitive, ``-`` and ``_`` equivalent).
    split : str
        Usually ``"train"`` or ``"test"``; see the table in :mod:`spykeflow.datasets`.
    root : str or os.PathLike, optional
        Data root; default ``$SPYKEFLOW_DATA``, then ``./AllDataSets`` (:func:`data_root`).
    **options
        Passed to the dataset's loader, e.g. ``transpose=False`` for EMNIST, ``size=(h, w)``
        for Caltech, ``speakers=[...]`` for FSDD, ``test_size``/``seed`` for digits,
        ``progress=False`` for the loaders that show a progress bar.

    Returns
    -------
    samples : numpy.ndarray
    labels : numpy.ndarray of int64, shape (N,)

    Raises
    ------
    ValueError
        Unknown name (the message lists the known names) or split.
    DatasetNotFoundError
        The data are not under the root.
    DatasetFormatError
        A file is corrupt.

    Examples
    --------
    >>> load("no-such-set")
    Traceback (most recent call last):
    ...
    ValueError: Unknown dataset name 'no-such-set'. Known datasets: caltech_face_motor, ...
    """
    key = _canonical(name)
    loader, func_name = _function(key, "load")
    _check_options(key, loader, func_name, options)
    return loader(split=split, root=root, **options)


def open(name: str, split: str = "train", root: PathLike | None = None,
         **options: Any) -> LazyDataset:
    """Open a dataset lazily: index its files now, read samples when asked for.

    Same names, splits, roots and options as :func:`load` (and the same errors, raised here:
    a missing dataset raises :class:`DatasetNotFoundError` now, not at the first read), except
    the options that only make sense when everything is read at once: ``progress`` goes to
    :meth:`LazyDataset.read`, and ``cache`` of ``"sequences"`` is refused.

    Returns
    -------
    LazyDataset
        ``len(ds)``, ``ds[i] -> (sample, label)``, views ``ds[a:b]`` / ``ds[indices]``,
        ``ds.read() -> (samples, labels)`` equal to ``load(name, split, ...)`` for that subset,
        ``ds.labels`` (without reading samples), ``ds.to_pydataset(batch_size)`` for Keras and
        ``ds.to_tf_dataset()``. Small to pickle (paths and positions only).

    Examples
    --------
    >>> ds = open("digits", split="test")
    >>> view = ds[::2]
    >>> len(view), view.labels[:4].tolist() == load("digits", "test")[1][::2][:4].tolist()
    (180, True)
    >>> open("digits", progress=True)
    Traceback (most recent call last):
    ...
    TypeError: Dataset 'digits' accepts the options [...]. Received unknown options ['progress']...
    """
    key = _canonical(name)
    loader, load_name = _function(key, "load")
    opener, func_name = _function(key, "open")
    eager = sorted(set(options) & (_accepted(loader) - _accepted(opener)))
    if eager:
        hint = (" Pass progress to ds.read(progress=...) instead." if "progress" in eager else "")
        raise TypeError(
            f"Expected options of spykeflow.datasets.open({key!r}) among "
            f"{sorted(_accepted(opener))}. Received {eager}, which only make sense when "
            f"reading everything at once: use spykeflow.datasets.load({key!r}, ...).{hint}"
        )
    _check_options(key, opener, func_name, options)
    return opener(split=split, root=root, **options)


def _function(key: str, kind: str) -> tuple[Any, str]:
    """The ``load_<name>`` or ``open_<name>`` function of dataset ``key``."""
    module_name, func_name = _REGISTRY[key]
    func_name = func_name.replace("load_", f"{kind}_", 1)
    module = importlib.import_module(f"{__name__}.{module_name}")
    return getattr(module, func_name), func_name


def _accepted(func: Any) -> set[str]:
    return {p for p in inspect.signature(func).parameters if p not in ("split", "root")}


def _check_options(key: str, func: Any, func_name: str, options: dict[str, Any]) -> None:
    accepted = [p for p in inspect.signature(func).parameters if p not in ("split", "root")]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise TypeError(
            f"Dataset {key!r} accepts the options {accepted}. Received unknown options "
            f"{unknown}; see help(spykeflow.datasets.{func_name})."
        )


def __getattr__(attr: str) -> Any:
    if attr in _LAZY:
        module = importlib.import_module(f"{__name__}.{_LAZY[attr]}")
        value = getattr(module, attr)
        globals()[attr] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {attr!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
