"""Spike views of one sample: raster (neuron index vs time step) and per-time-step pictures.

Input convention: spikes of one sample ``(T, H, W, C)`` or a batch ``(N, T, H, W, C)`` together
with ``index=`` (which sample), bool or 0/1 (counts are accepted for pooled layers), as
described in :mod:`spykeflow.conventions`. For encoded images channel 0 is ON and 1 is OFF.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from .._validation import check_in
from ._common import (
    FONTSIZE,
    KERNEL_RGB,
    axes_or_new,
    channel_rgb,
    grid_shape,
    new_figure,
    no_ticks,
    onoff_legend_handles,
    sample_spikes,
    style_axes,
)

__all__ = ["plot_spike_raster", "plot_input_spikes", "raster_coordinates"]

_ONOFF_COLOURS = {"off_red": ("tab:green", "tab:red"), "on_red": ("tab:red", "tab:green")}


def raster_coordinates(sample: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Time steps and neuron indices of the spikes of one sample ``(T, H, W, C)``.

    Neurons are numbered map-major (``index = c*H*W + row*W + col``, the feature-vector order of
    :mod:`spykeflow.conventions`), so each channel is a contiguous block.

    Returns
    -------
    t, neuron, channel : int arrays of equal length (one entry per spike; a neuron spiking k
        times in one step, possible in pooled counts, appears once for that step)

    >>> s = np.zeros((3, 2, 2, 2), bool); s[1, 0, 1, 1] = True
    >>> [a.tolist() for a in raster_coordinates(s)]
    [[1], [5], [1]]
    """
    s = np.asarray(sample) != 0
    t_steps, h, w, c = s.shape
    t, r, col, ch = np.nonzero(s)
    return t, ch * h * w + r * w + col, ch


def plot_spike_raster(spikes: ArrayLike, *, index: int = 0,
                      channel_names: Sequence[str] | None = None, layer_name: str = "input",
                      kernel_rgb: str = "off_red", ax: Axes | None = None,
                      fontsize: float = FONTSIZE, marker_size: float | None = None) -> Figure:
    """Spike raster of one sample: neuron index (map-major) against time step.

    Parameters
    ----------
    spikes : array ``(T, H, W, C)`` or ``(N, T, H, W, C)``
        Spikes of the input or of any layer.
    index : int
        Sample to draw when a batch is given.
    channel_names : sequence of str, optional
        Names of the channels; default "ON"/"OFF" for 2 channels, "map k" otherwise.
    layer_name : str
        Used in the title.

    Returns
    -------
    matplotlib.figure.Figure
        One Axes: x = time step, y = neuron index; channel blocks separated by lines. With at
        most 10 channels every channel is its own legend entry with its spike count.
    """
    sample = sample_spikes(spikes, index=index)
    check_in(kernel_rgb, "kernel_rgb", KERNEL_RGB)
    t_steps, h, w, c = sample.shape
    t, neuron, ch = raster_coordinates(sample)
    fig, ax = axes_or_new(ax, (7.0, 4.5))
    if channel_names is None:
        channel_names = ["ON", "OFF"] if c == 2 else [f"map {k}" for k in range(c)]
    if len(channel_names) != c:
        raise ValueError(
            f"Expected {c} channel_names (one per channel). Received: {len(channel_names)}."
        )
    size = (marker_size if marker_size is not None
            else float(np.clip(3000 / max(len(t), 1), 2, 25)))
    colours: Sequence[str] | None
    if c == 2:
        colours = _ONOFF_COLOURS[kernel_rgb]
    elif c <= 10:
        colours = [f"C{k}" for k in range(c)]
    else:
        colours = None
    if colours is None:
        ax.scatter(t, neuron, s=size, marker="|", color="k", linewidths=1.0,
                   label=f"{len(t)} spikes")
    else:
        for k in range(c):
            sel = ch == k
            ax.scatter(t[sel], neuron[sel], s=size, marker="|", color=colours[k], linewidths=1.2,
                       label=f"{channel_names[k]} ({int(sel.sum())} spikes)")
    for k in range(1, c if c <= 50 else 0):
        ax.axhline(k * h * w - 0.5, color="0.7", lw=0.6, zorder=0)
    ax.set_xlim(-0.5, t_steps - 0.5)
    ax.set_ylim(-0.5, c * h * w - 0.5)
    ax.set_xticks(np.arange(t_steps) if t_steps <= 24 else ax.get_xticks())
    ax.set_xlim(-0.5, t_steps - 0.5)
    if c > 2:  # label the map blocks instead of raw neuron numbers
        step = max(1, int(np.ceil(c / 15)))
        ax.set_yticks(np.arange(0, c, step) * h * w + h * w / 2,
                      [str(k) for k in range(0, c, step)])
        ylabel = f"map index ({h}x{w} neurons per map, row-major)"
    else:
        ylabel = f"neuron index (map-major, {h}x{w} per map)"
    style_axes(ax, fontsize, xlabel="time step", ylabel=ylabel,
               title=f"Spike raster, {layer_name} ({h}x{w}x{c}, T = {t_steps}), "
                     f"{int((sample != 0).sum())} spikes")
    if colours is not None:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=fontsize - 1,
                  frameon=False, markerscale=2)
    return fig


def plot_input_spikes(spikes: ArrayLike, *, index: int = 0, ncols: int | None = None,
                      kernel_rgb: str = "off_red", fig: Figure | None = None,
                      fontsize: float = FONTSIZE, panel_size: float = 1.45,
                      title: str | None = None) -> Figure:
    """Input spikes per time step: a grid of T panels, ON and OFF colour-coded.

    Parameters
    ----------
    spikes : array ``(T, H, W, C)`` or ``(N, T, H, W, C)`` with C in {1, 2}
        Encoded input (channel 0 ON, channel 1 OFF).
    ncols : int, optional
        Panels per row (default ``ceil(T / 2)`` for T <= 16, near-square otherwise).
    kernel_rgb : {"off_red", "on_red"}
        "off_red": ON green, OFF red (overlap yellow) as in the kernel grids.

    Returns
    -------
    matplotlib.figure.Figure
        T image Axes titled ``t = k`` with the ON/OFF spike counts of that step, and a legend.
    """
    sample = sample_spikes(spikes, index=index)
    t_steps, h, w, c = sample.shape
    if c not in (1, 2):
        raise ValueError(
            "Expected input spikes with 1 or 2 channels (ON/OFF). "
            f"Received: C={c}; use plot_spike_raster for layers with many maps."
        )
    if ncols is None:
        ncols = int(np.ceil(t_steps / 2)) if t_steps <= 16 else None
    nrows, ncols = grid_shape(t_steps, ncols)
    fig = new_figure((max(5.0, ncols * panel_size), nrows * panel_size * 1.18 + 0.9), fig)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    rgb = channel_rgb(np.minimum(sample.astype(float), 1.0), kernel_rgb)  # (T, H, W, 3)
    small = max(6, fontsize - 2)
    for k, ax in enumerate(axes.flat):
        if k >= t_steps:
            ax.set_axis_off()
            continue
        ax.imshow(rgb[k], interpolation="nearest", vmin=0, vmax=1)
        no_ticks(ax)
        counts = (sample[k] != 0).sum(axis=(0, 1))
        sub = f"ON {counts[0]}, OFF {counts[1]}" if c == 2 else f"{counts[0]} spikes"
        ax.set_title(f"t = {k}\n{sub}", fontsize=small, pad=2)
    totals = (sample != 0).sum(axis=(0, 1, 2))
    if title is None:
        title = (f"Input spikes per time step ({h}x{w}; total ON {totals[0]}, OFF {totals[1]})"
                 if c == 2 else f"Input spikes per time step ({h}x{w}; {totals[0]} spikes)")
    fig.suptitle(title, fontsize=fontsize + 1)
    if c == 2:
        fig.legend(handles=onoff_legend_handles(kernel_rgb), loc="outside lower center", ncols=3,
                   fontsize=fontsize - 1, frameon=False)
    return fig
