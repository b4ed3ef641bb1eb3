"""Shared helpers of :mod:`spykeflow.plotting`: input checks, figure creation, fonts, colours.

Everything here imports only numpy and matplotlib (and SpykeFlow's validators). Figures are
created as :class:`matplotlib.figure.Figure` objects (not through ``pyplot``), so nothing is
registered with the pyplot figure manager, nothing is shown, and no global ``rcParams`` change.
The checks of plot inputs (arrays, spike samples, snapshots, index lists, class names) call the
shared primitives of :mod:`spykeflow._validation`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from .._validation import check_finite_array, check_in, check_int

#: Default font size (points) of axis labels; titles are +1, tick labels -1.
FONTSIZE = 10

#: Character labels of EMNIST *balanced* (47 classes), in label order 0..46 (the characters
#: :func:`spykeflow.datasets.emnist_mapping` reads from the dataset's mapping file).
EMNIST_BALANCED_LABELS = tuple("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabdefghnqrt")

#: Classes the EMNIST paper counts as one in its "collapsed" accuracy (label indices of
#: EMNIST balanced): {f,F}, {0,O}, {q,9}, {1,I,L}, {S,5}, {2,Z}.
EMNIST_COLLAPSED_GROUPS = tuple(
    tuple(EMNIST_BALANCED_LABELS.index(ch) for ch in group)
    for group in (("f", "F"), ("0", "O"), ("q", "9"), ("1", "I", "L"), ("S", "5"), ("2", "Z"))
)

#: Character labels of EMNIST *bymerge*/*byclass* digits+letters (62 classes), label order.
EMNIST_BYCLASS_LABELS = tuple(
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)

#: RGB plane receiving each input channel (ON = channel 0, OFF = channel 1) per colour mapping.
#: "off_red": R = OFF, G = ON, B = 0 (the original SpykeFlow's kernel colours, the default);
#: "on_red": R = ON, G = OFF, B = 0 (the paper's Fig. 5 caption). See
#: docs/original/diagnostics.md#kernel-colours.
KERNEL_RGB = {"off_red": {0: 1, 1: 0}, "on_red": {0: 0, 1: 1}}


def new_figure(figsize: tuple[float, float], fig: Figure | None = None,
               layout: Literal["constrained", "compressed", "tight"] = "constrained") -> Figure:
    """Return ``fig`` or a fresh pyplot-free :class:`~matplotlib.figure.Figure`."""
    if fig is not None:
        if not isinstance(fig, Figure):
            raise TypeError(
                "Expected fig to be a matplotlib.figure.Figure or None. "
                f"Received: {type(fig).__name__}."
            )
        return fig
    return Figure(figsize=figsize, layout=layout)


def axes_or_new(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Any, Axes]:
    """Return ``(fig, ax)``: the given Axes and its figure, or a new figure with one Axes."""
    if ax is not None:
        if not hasattr(ax, "figure") or not hasattr(ax, "imshow"):
            raise TypeError(
                f"Expected ax to be a matplotlib Axes or None. Received: {type(ax).__name__}."
            )
        return ax.figure, ax
    fig = new_figure(figsize)
    return fig, fig.add_subplot()


def style_axes(ax: Axes, fontsize: float = FONTSIZE, xlabel: str | None = None,
               ylabel: str | None = None, title: str | None = None) -> Axes:
    """Set labels, title and tick sizes of ``ax`` with explicit font sizes (no rcParams)."""
    if xlabel is not None:
        ax.set_xlabel(xlabel, fontsize=fontsize)
    if ylabel is not None:
        ax.set_ylabel(ylabel, fontsize=fontsize)
    if title is not None:
        ax.set_title(title, fontsize=fontsize + 1)
    ax.tick_params(labelsize=fontsize - 1)
    return ax


def style_colorbar(cbar: Any, label: str, fontsize: float = FONTSIZE) -> Any:
    cbar.set_label(label, fontsize=fontsize)
    cbar.ax.tick_params(labelsize=fontsize - 1)
    return cbar


def class_xticks(ax: Axes, names: Sequence[str], labelsize: float) -> None:
    """Class names as x ticks; when any name is longer than 3 characters (e.g. Fashion-MNIST's
    "Pullover") they are rotated so neighbouring labels never overlap."""
    rotate = max((len(str(n)) for n in names), default=0) > 3
    ax.set_xticks(np.arange(len(names)), names, fontsize=labelsize,
                  rotation=35 if rotate else 0, ha="right" if rotate else "center",
                  rotation_mode="anchor")


def no_ticks(ax: Axes) -> Axes:
    ax.set_xticks([])
    ax.set_yticks([])
    return ax


def as_array(x: ArrayLike, name: str, min_ndim: int = 0, ndim: int | tuple[int, ...] | None = None,
             dtype: Any = float) -> np.ndarray:
    """``x`` as a finite, non-empty numeric array of the requested rank (``dtype=None`` keeps
    the input's dtype)."""
    arr = np.asarray(x)
    arr = check_finite_array(arr, name, min_ndim=min_ndim,
                             dtype=arr.dtype if dtype is None else dtype)
    if ndim is not None and arr.ndim not in np.atleast_1d(ndim):
        raise ValueError(f"Expected {name} of rank {ndim}. Received: shape={arr.shape}.")
    if arr.size == 0:
        raise ValueError(f"Expected a non-empty {name}. Received: shape={arr.shape}.")
    return arr


def sample_spikes(spikes: ArrayLike, name: str = "spikes", index: int = 0,
                  ndim: int = 4) -> np.ndarray:
    """One sample ``(T, H, W, C)`` from ``(T, H, W, C)`` or a batch ``(N, T, H, W, C)``.

    ``ndim`` is the rank of a single sample. Values must be bool or non-negative numbers
    (counts > 1 are accepted for pooled layers in "transient"/"accumulate" mode).
    """
    arr = np.asarray(spikes)
    if arr.ndim == ndim + 1:
        index = check_int(index, "index", minimum=0)
        if index >= arr.shape[0]:
            raise ValueError(
                f"Expected index < {arr.shape[0]} (batch size of {name}). Received: index={index}."
            )
        arr = arr[index]
    elif arr.ndim != ndim:
        raise ValueError(
            f"Expected {name} of shape (T, H, W, C) for one sample or (N, T, H, W, C) for a batch "
            f"(see spykeflow.conventions). Received: shape={arr.shape}."
        )
    arr = as_array(arr, name, dtype=None)
    if arr.dtype != bool and (arr < 0).any():
        raise ValueError(
            f"Expected non-negative spike values in {name}. Received a negative entry."
        )
    return arr


def check_snapshots(snapshots: ArrayLike, images_seen: ArrayLike,
                    name: str = "snapshots", ndim: int | None = 5,
                    seen_name: str = "images_seen") -> tuple[np.ndarray, np.ndarray]:
    """Weight snapshots ``(S, ...)`` (an array or a list of S arrays) as floats, and the number
    of training images seen at each, ``(S,)``.

    ``ndim`` is the rank of the stacked snapshots (5 for ``(S, kh, kw, C_in, C_out)``); ``None``
    accepts any rank >= 2.
    """
    if isinstance(snapshots, (list, tuple)):
        snapshots = np.stack([np.asarray(s) for s in snapshots])
    snaps = (as_array(snapshots, name, ndim=ndim) if ndim is not None
             else as_array(snapshots, name, min_ndim=2))
    seen = as_array(images_seen, seen_name, ndim=1, dtype=None)
    if seen.shape[0] != snaps.shape[0]:
        raise ValueError(
            f"Expected one {seen_name} value per snapshot of {name} ({snaps.shape[0]}). "
            f"Received: {seen_name} of length {seen.shape[0]}."
        )
    return snaps, seen


def select_indices(indices: ArrayLike | None, n: int, name: str = "maps") -> np.ndarray:
    """The integer indices ``indices`` (all of ``range(n)`` for ``None``), each in [0, n)."""
    if indices is None:
        return np.arange(n)
    idx = np.asarray(indices)
    if idx.ndim != 1 or idx.size == 0 or not np.issubdtype(idx.dtype, np.integer):
        raise ValueError(
            f"Expected {name} to be a non-empty list of integer indices. "
            f"Received: {name}={indices!r}."
        )
    if idx.min() < 0 or idx.max() >= n:
        raise ValueError(
            f"Expected indices in [0, {n - 1}] for {name}. Received: {name}={idx.tolist()}."
        )
    return idx


def class_labels(class_names: Sequence[str] | str | None, classes: np.ndarray) -> list[str]:
    """Tick label of every class: ``class_names`` as given, the EMNIST-balanced characters
    for ``"emnist"``, or the class values as text for ``None``."""
    if isinstance(class_names, str):
        check_in(class_names, "class_names", ("emnist",))
        return [EMNIST_BALANCED_LABELS[int(c)] for c in classes]
    if class_names is None:
        return [str(c) for c in classes]
    if len(class_names) != len(classes):
        raise ValueError(
            f"Expected {len(classes)} class_names (one per class). "
            f"Received: {len(class_names)}."
        )
    return list(class_names)


def grid_shape(n: int, ncols: int | None = None, aspect: float = 1.0) -> tuple[int, int]:
    """Rows and columns of a near-square grid holding ``n`` panels."""
    if ncols is None:
        ncols = int(np.ceil(np.sqrt(n * aspect)))
    ncols = max(1, min(check_int(ncols, "ncols"), n))
    return int(np.ceil(n / ncols)), ncols


def channel_rgb(planes: ArrayLike, mapping: str = "off_red") -> np.ndarray:
    """Map an ``(..., C)`` array with C in {1, 2} to RGB ``(..., 3)`` (no normalisation).

    C = 2: channel 0 (ON) and 1 (OFF) go to the planes given by :data:`KERNEL_RGB`, B = 0.
    C = 1: grey (all three planes equal).
    """
    planes = np.asarray(planes, dtype=float)
    c = planes.shape[-1]
    out = np.zeros(planes.shape[:-1] + (3,))
    if c == 1:
        out[...] = planes
    elif c == 2:
        check_in(mapping, "kernel_rgb", KERNEL_RGB)
        for ch, plane in KERNEL_RGB[mapping].items():
            out[..., plane] = planes[..., ch]
    else:
        raise ValueError(
            f"Expected 1 or 2 input channels (ON/OFF) to colour-code. Received: C_in={c}. "
            "For deeper layers pass the lower layers' weights so the kernels are reconstructed "
            "through them (see reconstruct_features)."
        )
    return out


def onoff_legend_handles(mapping: str = "off_red", overlap: bool = True) -> list[Any]:
    """Legend patches naming the colour of ON, OFF (and both) for the given mapping."""
    from matplotlib.patches import Patch

    check_in(mapping, "kernel_rgb", KERNEL_RGB)
    planes = KERNEL_RGB[mapping]
    rgb = {ch: (float(planes[ch] == 0), float(planes[ch] == 1), 0.0) for ch in (0, 1)}
    handles = [
        Patch(facecolor=rgb[0], edgecolor="k", label="ON"),
        Patch(facecolor=rgb[1], edgecolor="k", label="OFF"),
    ]
    if overlap:
        handles.append(Patch(facecolor=(1.0, 1.0, 0.0), edgecolor="k", label="ON + OFF"))
    return handles


def first_spike_image(sample: ArrayLike, empty: float = np.nan) -> np.ndarray:
    """First-spike time step per neuron of one sample ``(T, H, W, C)`` -> ``(H, W, C)`` float.

    Neurons that never fire get ``empty``.
    """
    s = np.asarray(sample) != 0
    fired = s.any(axis=0)
    first = np.argmax(s, axis=0).astype(float)
    first[~fired] = empty
    return first


def latency_image(sample: ArrayLike) -> np.ndarray:
    """Rebuild an intensity picture from latency-coded spikes ``(T, H, W, C)`` -> ``(H, W, C)``.

    A neuron firing at step t gets ``1 - t / T`` (earliest = strongest), silent neurons 0.

    >>> s = np.zeros((4, 1, 2, 1), bool); s[1, 0, 0, 0] = True
    >>> latency_image(s)[..., 0].tolist()
    [[0.75, 0.0]]
    """
    t_steps = np.asarray(sample).shape[0]
    first = first_spike_image(sample, empty=np.nan)
    return np.where(np.isnan(first), 0.0, 1.0 - first / t_steps)
