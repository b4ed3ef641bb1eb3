"""Shared helpers of :mod:`spykeflow.plotting`: input checks, figure creation, fonts, colours.

Everything here imports only numpy and matplotlib. Figures are created as
:class:`matplotlib.figure.Figure` objects (not through ``pyplot``), so nothing is registered with
the pyplot figure manager, nothing is shown, and no global ``rcParams`` change.
"""

from __future__ import annotations

import numbers

import numpy as np
from matplotlib.figure import Figure

#: Default font size (points) of axis labels; titles are +1, tick labels -1.
FONTSIZE = 10

#: Character labels of EMNIST *balanced* (47 classes), in label order 0..46.
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
#: "on_red": R = ON, G = OFF, B = 0 (the paper's Fig. 5 caption).
KERNEL_RGB = {"off_red": {0: 1, 1: 0}, "on_red": {0: 0, 1: 1}}


def new_figure(figsize, fig=None, layout="constrained"):
    """Return ``fig`` or a fresh pyplot-free :class:`~matplotlib.figure.Figure`."""
    if fig is not None:
        if not isinstance(fig, Figure):
            raise TypeError(
                f"Expected fig to be a matplotlib.figure.Figure or None. Received: {type(fig).__name__}."
            )
        return fig
    return Figure(figsize=figsize, layout=layout)


def axes_or_new(ax, figsize):
    """Return ``(fig, ax)``: the given Axes and its figure, or a new figure with one Axes."""
    if ax is not None:
        if not hasattr(ax, "figure") or not hasattr(ax, "imshow"):
            raise TypeError(
                f"Expected ax to be a matplotlib Axes or None. Received: {type(ax).__name__}."
            )
        return ax.figure, ax
    fig = new_figure(figsize)
    return fig, fig.add_subplot()


def style_axes(ax, fontsize=FONTSIZE, xlabel=None, ylabel=None, title=None):
    """Set labels, title and tick sizes of ``ax`` with explicit font sizes (no rcParams)."""
    if xlabel is not None:
        ax.set_xlabel(xlabel, fontsize=fontsize)
    if ylabel is not None:
        ax.set_ylabel(ylabel, fontsize=fontsize)
    if title is not None:
        ax.set_title(title, fontsize=fontsize + 1)
    ax.tick_params(labelsize=fontsize - 1)
    return ax


def style_colorbar(cbar, label, fontsize=FONTSIZE):
    cbar.set_label(label, fontsize=fontsize)
    cbar.ax.tick_params(labelsize=fontsize - 1)
    return cbar


def class_xticks(ax, names, labelsize):
    """Class names as x ticks; when any name is longer than 3 characters (e.g. Fashion-MNIST's
    "Pullover") they are rotated so neighbouring labels never overlap."""
    rotate = max((len(str(n)) for n in names), default=0) > 3
    ax.set_xticks(np.arange(len(names)), names, fontsize=labelsize,
                  rotation=35 if rotate else 0, ha="right" if rotate else "center",
                  rotation_mode="anchor")


def no_ticks(ax):
    ax.set_xticks([])
    ax.set_yticks([])
    return ax


def as_array(x, name, min_ndim=None, ndim=None, dtype=float):
    """Return ``x`` as a finite numeric array of the requested rank."""
    arr = np.asarray(x)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"Expected a numeric array for {name}. Received: dtype={arr.dtype}.")
    if ndim is not None and arr.ndim not in np.atleast_1d(ndim):
        raise ValueError(f"Expected {name} of rank {ndim}. Received: shape={arr.shape}.")
    if min_ndim is not None and arr.ndim < min_ndim:
        raise ValueError(f"Expected {name} of rank >= {min_ndim}. Received: shape={arr.shape}.")
    if arr.size == 0:
        raise ValueError(f"Expected a non-empty {name}. Received: shape={arr.shape}.")
    if dtype is not None:
        arr = arr.astype(dtype, copy=False)
    if np.issubdtype(arr.dtype, np.floating) and not np.isfinite(arr).all():
        raise ValueError(f"Expected finite values in {name}. Received NaN or inf entries.")
    return arr


def check_int(value, name, minimum=None):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"Expected an integer for {name}. Received: {name}={value!r}.")
    if minimum is not None and value < minimum:
        raise ValueError(f"Expected {name} >= {minimum}. Received: {name}={value}.")
    return int(value)


def check_choice(value, name, options):
    if value not in options:
        raise ValueError(
            f"Expected {name} to be one of {sorted(map(str, options))}. Received: {name}={value!r}."
        )
    return value


def check_weights(weights, name="weights"):
    """Conv weights ``(kh, kw, C_in, C_out)`` as float64 (values are expected in [0, 1])."""
    w = as_array(weights, name, ndim=4)
    return w


def sample_spikes(spikes, name="spikes", index=0, ndim=4):
    """One sample ``(T, H, W, C)`` from ``(T, H, W, C)`` or a batch ``(N, T, H, W, C)``.

    ``ndim`` is the rank of a single sample. Values must be bool or 0/1 (counts > 1 are
    accepted for pooled layers in "transient"/"accumulate" mode).
    """
    arr = np.asarray(spikes)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"Expected a boolean or numeric spike array for {name}. Received: dtype={arr.dtype}.")
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
    if arr.size == 0:
        raise ValueError(f"Expected a non-empty {name}. Received: shape={arr.shape}.")
    if arr.dtype != bool and (arr < 0).any():
        raise ValueError(f"Expected non-negative spike values in {name}. Received a negative entry.")
    return arr


def grid_shape(n, ncols=None, aspect=1.0):
    """Rows and columns of a near-square grid holding ``n`` panels."""
    if ncols is None:
        ncols = int(np.ceil(np.sqrt(n * aspect)))
    ncols = max(1, min(int(ncols), n))
    return int(np.ceil(n / ncols)), ncols


def channel_rgb(planes, mapping="off_red"):
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
        check_choice(mapping, "kernel_rgb", KERNEL_RGB)
        for ch, plane in KERNEL_RGB[mapping].items():
            out[..., plane] = planes[..., ch]
    else:
        raise ValueError(
            f"Expected 1 or 2 input channels (ON/OFF) to colour-code. Received: C_in={c}. "
            "For deeper layers pass the lower layers' weights so the kernels are reconstructed "
            "through them (see reconstruct_features)."
        )
    return out


def onoff_legend_handles(mapping="off_red", overlap=True):
    """Legend patches naming the colour of ON, OFF (and both) for the given mapping."""
    from matplotlib.patches import Patch

    check_choice(mapping, "kernel_rgb", KERNEL_RGB)
    planes = KERNEL_RGB[mapping]
    rgb = {ch: tuple(1.0 if p == planes[ch] else 0.0 for p in range(3)) for ch in (0, 1)}
    handles = [
        Patch(facecolor=rgb[0], edgecolor="k", label="ON"),
        Patch(facecolor=rgb[1], edgecolor="k", label="OFF"),
    ]
    if overlap:
        handles.append(Patch(facecolor=(1.0, 1.0, 0.0), edgecolor="k", label="ON + OFF"))
    return handles


def first_spike_image(sample, empty=np.nan):
    """First-spike time step per neuron of one sample ``(T, H, W, C)`` -> ``(H, W, C)`` float.

    Neurons that never fire get ``empty``.
    """
    s = np.asarray(sample) != 0
    fired = s.any(axis=0)
    first = np.argmax(s, axis=0).astype(float)
    first[~fired] = empty
    return first


def latency_image(sample):
    """Rebuild an intensity picture from latency-coded spikes ``(T, H, W, C)`` -> ``(H, W, C)``.

    A neuron firing at step t gets ``1 - t / T`` (earliest = strongest), silent neurons 0.
    """
    t_steps = np.asarray(sample).shape[0]
    first = first_spike_image(sample, empty=np.nan)
    return np.where(np.isnan(first), 0.0, 1.0 - first / t_steps)
